"""Writes data.csv: ten years of a made-up monthly demand series, reproducibly.

    python generate.py            # (re)writes data.csv beside this file

``sales`` (the series to forecast) grows along a trend, follows a yearly season
whose swing grows with the level (multiplicative, like airline passengers),
reacts to the month's mean ``temperature`` and carries AR(1) noise;
``temperature`` is a yearly cycle plus noise. numpy only, seed 7: the same file
every time, so the project's scores are reproducible.
"""

from pathlib import Path

import numpy as np

SEED = 7
MONTHS = 120  # January 2015 to December 2024


def generate(months: int = MONTHS, seed: int = SEED) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    month = t % 12
    temperature = 14 + 8 * np.sin(2 * np.pi * (month - 3) / 12) + rng.normal(0, 1.2, months)
    noise = np.zeros(months)
    for i in range(1, months):
        noise[i] = 0.6 * noise[i - 1] + rng.normal(0, 1.0)
    level = 200 + 2.5 * t
    season = 1 + 0.25 * np.sin(2 * np.pi * month / 12) + 0.1 * np.cos(4 * np.pi * month / 12)
    sales = level * season + 3.0 * (temperature - 14) + 6.0 * noise
    return [(f"{2015 + i // 12}-{i % 12 + 1:02d}", round(float(s), 2), round(float(c), 2))
            for i, (s, c) in enumerate(zip(sales, temperature, strict=True))]


def main() -> None:
    out = Path(__file__).with_name("data.csv")
    lines = ["month,temperature,sales"]
    lines += [f"{m},{c},{s}" for m, s, c in generate()]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out} ({MONTHS} months)")


if __name__ == "__main__":
    main()

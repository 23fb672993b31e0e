"""Resampling, metrics, the job grid, the result store and the leaderboard."""

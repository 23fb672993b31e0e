from dlrun.cli import main

if __name__ == "__main__":
    main()

from ops.cli import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()

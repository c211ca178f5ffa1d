"""``python -m judgeaudit`` (and ``torchrun ... -m judgeaudit``) runs the command line."""

from judgeaudit.cli import main

if __name__ == "__main__":
    main()

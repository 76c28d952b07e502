"""``python -m antlm`` (what ``torchrun -m antlm train ...`` runs)."""

from antlm.cli import main

if __name__ == "__main__":
    main()

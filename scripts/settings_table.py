"""Rewrites the README's table of settings from the code that reads them."""

import re
import sys
from pathlib import Path

from services.common.config import Config
from services.common.settings import markdown_table

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def main(readme: str) -> None:
    path = Path(readme)
    text = path.read_text()
    block = f"{START}\n{markdown_table(Config)}{END}"
    updated, count = re.subn(
        re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S
    )

    if count != 1:
        raise SystemExit(f"{readme} needs one {START} … {END} block")

    path.write_text(updated)


if __name__ == "__main__":
    main(sys.argv[1])

"""Progress a person can follow: a bar on a terminal, a few lines elsewhere (CI logs)."""

import sys


class Progress:
    def __init__(self, label: str, width: int = 30) -> None:
        self.label = label
        self.width = width
        self.tty = sys.stdout.isatty()
        self.last_quarter = -1

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        if self.tty:
            filled = self.width * done // total
            end = "\n" if done >= total else ""
            bar = "#" * filled + "." * (self.width - filled)
            print(f"\r  {self.label:<34} [{bar}] {done}/{total}", end=end, flush=True)
        elif (quarter := 4 * done // total) > self.last_quarter:
            self.last_quarter = quarter
            print(f"  {self.label:<34} {done}/{total}", flush=True)


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)

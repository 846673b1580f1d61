"""What a take-home is made of (Parts) and the download that offers it (TakeHome), for the script and the notebook
alike; and how a script embeds the loaded candles exactly."""
from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from explorer.teaching.source import lesson_source

PLAIN_CSV_ROWS = 2_000  # above this many candles the CSV is embedded gzip + base64 to keep the script small
HEADER = '"""{title}\n\nTaken home from Autograd Explorer. Needs only torch and pandas: python {file}\n"""\n'
DEVICE_LINE = 'DEVICE = {device!r}  # "cpu", or "cuda" / "mps" when this machine has one\n'


CSV_IMPORTS = "from __future__ import annotations\n\nimport base64\nimport gzip\nimport io\nfrom contextlib import " \
              "contextmanager\n\nimport pandas as pd\n" \
              "import torch\nfrom torch import nn\n"


def header(title: str, file: str, device: str, imports: str = "import torch\n") -> str:
    return HEADER.format(title=title, file=file) + imports + "\n" + DEVICE_LINE.format(device=device)


@dataclass(frozen=True)
class Parts:
    """What a take-home is built from, for the script and the notebook alike: the title and the lesson's explanation,
    the imports, the data (embedded exactly), the lesson functions' source, a printing helper and the driver's steps
    (one per step the learner took, each printing what the page printed)."""
    title: str
    file: str
    device: str
    imports: str
    data: str
    lessons: tuple[str, ...]  # each lesson function's (or class's) source, as source_of reads it
    steps: tuple[str, ...]
    helper: str = ""  # a small `show` that prints a row the way the page does
    explanation: str = ""

    @property
    def script(self) -> str:
        """The plain Python script: `python <file>` prints what the page printed."""
        lessons = "".join("\n\n" + source for source in self.lessons) + "\n\n"
        return header(self.title, self.file, self.device, self.imports) + self.data + lessons + self.helper + \
            "".join(self.steps)

    def notebook(self) -> str:
        """The same parts as a Jupyter notebook (.ipynb text): one cell per lesson function and per step."""
        from explorer.teaching.notebook import lesson_notebook  # nbformat is imported only when one is built
        return lesson_notebook(self)


@dataclass(frozen=True)
class TakeHome:
    """A take-home download: the widget key, what its script and notebook are built from, the script's file name
    and the button's tooltip. `build` is Parts (or anything with a `.script` and a `.notebook()`, such as the training
    run's TrainingExport), or a callable returning them that runs only when a button is clicked. A plain script text,
    or a callable returning one, still works: its notebook is that script in one cell."""
    key: str
    build: Parts | str | Callable[[], Parts | str]
    file: str
    help: str

    @property
    def lazy(self) -> bool:
        """Built only when clicked (the page passes a callable to the download button)."""
        return callable(self.build)

    def parts(self) -> Parts | str:
        return self.build() if callable(self.build) else self.build

    @property
    def script(self) -> str:
        """The script's text (built now)."""
        parts = self.parts()
        return parts if isinstance(parts, str) else parts.script

    def notebook(self) -> str:
        """The notebook's text (.ipynb, built now, from the same parts as the script)."""
        from explorer.teaching.notebook import script_notebook
        parts = self.parts()
        return script_notebook(parts, self.file) if isinstance(parts, str) else parts.notebook()

    @property
    def notebook_file(self) -> str:
        return self.file.removesuffix(".py") + ".ipynb"


def read_candles(csv):
    """The embedded candles as a DataFrame; pandas 3 reads every price back bit for bit (float_precision="round_trip"
    is its default now, and passing it is deprecated)."""
    return pd.read_csv(csv, index_col="timestamp", parse_dates=["timestamp"])


def embedded_csv(frame: pd.DataFrame) -> str:
    """The candles as source code: plain CSV text when short, gzip + base64 when long."""
    text = frame.to_csv(index_label="timestamp")
    if len(frame) <= PLAIN_CSV_ROWS:
        return f'CANDLES = io.StringIO("""\\\n{text}""")\n' + lesson_source(read_candles).rstrip("\n") + "\n"
    packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    lines = "\n".join(f'    "{packed[i:i + 100]}"' for i in range(0, len(packed), 100))
    return (f"CANDLES = io.StringIO(gzip.decompress(base64.b64decode(\n{lines}\n)).decode())\n" +
            lesson_source(read_candles).rstrip("\n") + "\n")

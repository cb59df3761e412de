"""Real English and French prose from installed Debian packages, to count Vigile's false alarms."""

from __future__ import annotations

import argparse
import gzip
import html
import os
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

# language → (Debian package, glob patterns of its own files, how to extract them)
PACKAGES: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "en": [
        ("debian-handbook", ("/usr/share/doc/debian-handbook/html/en-US/*.html",), "html"),
        ("debian-reference-en", ("/usr/share/debian-reference/*.en.html",), "html"),
        ("debian-faq", ("/usr/share/doc/debian/FAQ/*.en.html",), "html"),
        ("developers-reference", ("/usr/share/developers-reference/*.html",), "html"),
        ("maint-guide", ("/usr/share/doc/maint-guide/html/*.en.html",), "html"),
        ("debian-edu-doc-en", ("/usr/share/doc/debian-edu-doc-en/*-manual.html",), "html"),
        ("aptitude-doc-en", ("/usr/share/doc/aptitude/html/en/*.html",), "html"),
        ("doc-debian", ("/usr/share/doc/debian/*.txt.gz", "/usr/share/doc/debian/*.txt"), "text"),
        ("fortunes-min", ("/usr/share/games/fortunes/*",), "fortune"),
        ("fortunes", ("/usr/share/games/fortunes/*",), "fortune"),
        ("bible-kjv", ("/usr/bin/bible",), "kjv"),  # its text is in bible-kjv-text
        ("dict-gcide", ("/usr/share/dictd/gcide.dict.dz",), "gcide"),
        ("manpages", ("/usr/share/man/man[1-8]/*.gz",), "man"),
    ],
    "fr": [
        ("debian-handbook", ("/usr/share/doc/debian-handbook/html/fr-FR/*.html",), "html"),
        ("debian-reference-fr", ("/usr/share/debian-reference/*.fr.html",), "html"),
        ("debian-faq-fr", ("/usr/share/doc/debian/FAQ/fr/*.fr.html",), "html"),
        ("developers-reference-fr", ("/usr/share/developers-reference/fr/*.html",), "html"),
        ("maint-guide-fr", ("/usr/share/doc/maint-guide-fr/html/*.fr.html",), "html"),
        ("debian-edu-doc-fr", ("/usr/share/doc/debian-edu-doc-fr/*-manual.html",), "html"),
        ("aptitude-doc-fr", ("/usr/share/doc/aptitude/html/fr/*.html",), "html"),
        ("stardict-xmlittre", ("/usr/share/stardict/dic/XMLittre.idx",), "littre"),
        ("manpages-fr", ("/usr/share/man/fr/man[1-8]/*.gz",), "man"),
    ],
}
MIN_CHARS, MAX_CHARS = 25, 600
SKIP_TAGS = set("pre script style table head".split())  # code blocks and tables left out
BLOCK_TAGS = set(
    "p div li dt dd br tr td th blockquote title h1 h2 h3 h4 h5 h6 section ul ol dl".split()
)
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«“(]?[A-ZÀ-Ý])")
URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")
CODE_CHARS = re.compile(r"[{}<>|=;\\$_#@`~^*]")
WORD = re.compile(r"[^\W\d_]{2,}")
STOPWORDS = {  # a line is kept where its own language's common words outnumber the other's
    "en": set(
        "the and of to is are that with for this it be by not or which can you from an "
        "will have was his he they but at if in its these there when".split()
    ),
    "fr": set(
        "le la les des du de un une et est sont que qui pour dans par sur pas ne avec ce "
        "cette il elle au aux se en ou vous nous son sa ses être peut lorsque".split()
    ),
}


class _Text(HTMLParser):
    """HTML → paragraphs of text; code blocks and tables left out, inline code kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks, self.skip = [""], 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.edge(tag, 1)

    def handle_endtag(self, tag: str) -> None:
        self.edge(tag, -1)

    def edge(self, tag: str, step: int) -> None:
        if tag in SKIP_TAGS:
            self.skip = max(0, self.skip + step)
        if tag in BLOCK_TAGS | SKIP_TAGS:
            self.blocks.append("")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.blocks[-1] += data


def read_text(path: str) -> str:
    opener = gzip.open if path.endswith((".gz", ".dz")) else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def from_text(path: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", read_text(path)) if p.strip()]


def from_html(path: str) -> list[str]:
    parser = _Text()
    parser.feed(read_text(path))
    return parser.blocks


def from_fortune(path: str) -> list[str]:
    if "." in Path(path).name or os.path.islink(path):  # .dat indexes and .u8 symlinks
        return []
    cookies = re.split(r"^%$", read_text(path), flags=re.M)
    return [re.sub(r"^\s*--.*$", "", c, flags=re.M) for c in cookies]  # attributions out


def from_man(path: str) -> list[str]:
    env = {**os.environ, "MANWIDTH": "4000", "LC_ALL": "C.UTF-8", "MAN_KEEP_FORMATTING": ""}
    run = subprocess.run(["man", "-l", path], capture_output=True, env=env, timeout=60)
    lines = run.stdout.decode("utf-8", "replace").splitlines()[1:-1]  # header and footer out
    return [ln for ln in lines if not re.search(r"\S\s{3,}\S", ln.strip())]


def from_kjv(_path: str) -> list[str]:
    run = subprocess.run(["bible", "-l0", "Gen1:1-Rev22:21"], capture_output=True, timeout=120)
    return [re.sub(r"^\s*\d+\s", "", ln) for ln in run.stdout.decode("utf-8").splitlines()]


def from_gcide(path: str) -> list[str]:
    out = []
    for para in from_text(path):
        text = re.sub(r"\[['`^\"~=,.:-]?([a-zA-Z]{1,2})\]", r"\1", " ".join(para.split()))
        text = re.sub(r"\[[^\]]*\]", "", text)  # [1913 Webster], etymologies, [Obs.]
        text = re.sub(r"^[^\\]*\\[^\\]*\\\s*(\([^)]*\))?[,\s]*((?:[a-z]{1,5}\.\s*)+)?", "", text)
        text = re.sub(r"^\s*(\([A-Z][^)]*\)\s*)*(\d+\.\s*)?", "", text).replace("{", "")
        if not text.startswith("Syn:"):
            out.append(text.replace("}", ""))
    return out


def from_littre(path: str) -> list[str]:
    """Stardict entries: modern senses and quotations; the old French of HISTORIQUE and the
    ÉTYMOLOGIE are left out."""
    idx = Path(path).read_bytes()
    with gzip.open(path.removesuffix(".idx") + ".dict.dz") as f:
        data = f.read()
    spans, i = set(), 0
    while i < len(idx):
        j = idx.index(b"\0", i)
        spans.add(struct.unpack(">II", idx[j + 1 : j + 9]))
        i = j + 9
    out = []
    for off, size in sorted(spans):
        entry = data[off : off + size].decode("utf-8", "replace")
        entry = re.split(r"<b><big>(?:HISTORIQUE|ÉTYMOLOGIE)", entry)[0]
        entry = re.sub(r"<i><small>.*?</small></i>", "", entry)  # pronunciation, gender
        for line in entry.splitlines():
            quotes = re.findall(r'<span foreground="#0000CD">(.*?)</span>', line)
            for part in quotes or [line]:
                out.append(html.unescape(re.sub(r"<[^>]+>", "", part)))
    return out


EXTRACT = {n.removeprefix("from_"): f for n, f in dict(globals()).items() if n[:5] == "from_"}


def is_prose(line: str, lang: str) -> bool:
    if not MIN_CHARS <= len(line) <= MAX_CHARS or not (line[0].isalnum() or line[0] in "\"«“'("):
        return False
    words = WORD.findall(URL.sub("", line))
    letters = sum(map(len, words))
    if len(words) < 4 or letters < 0.65 * len(line) or len(CODE_CHARS.findall(line)) > 2:
        return False
    lower = [w.lower() for w in words]
    other = "fr" if lang == "en" else "en"
    own, foreign = (sum(w in STOPWORDS[k] for w in lower) for k in (lang, other))
    return own > foreign and line[-1] in ".!?…:;»\"”')"


def prose_lines(blocks: list[str], lang: str) -> list[str]:
    sentences = (s for b in blocks for s in SENTENCE_END.split(" ".join(b.split())))
    return [s for s in sentences if is_prose(s, lang)]


def package_files(package: str, patterns: tuple[str, ...]) -> list[str] | None:
    """The package's own files that match, or None if it is not installed."""
    query = ["dpkg-query", "-W", "-f=${Status}", package]
    if "ok installed" not in subprocess.run(query, capture_output=True, text=True).stdout:
        return None
    listed = subprocess.run(["dpkg-query", "-L", package], capture_output=True, text=True).stdout
    return sorted(
        p
        for p in listed.splitlines()
        if os.path.isfile(p) and any(PurePosixPath(p).match(pat) for pat in patterns)
    )


def sample(lines: list[str], cap: int) -> list[str]:
    """At most cap lines, taken evenly across the package: a dictionary should not drown the
    handbooks."""
    if not cap or len(lines) <= cap:
        return lines
    return [lines[i * len(lines) // cap] for i in range(cap)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="bench/out/prose", help="where {en,fr}/PACKAGE.txt go")
    ap.add_argument("--per-package", type=int, default=20000, help="cap per package (0: none)")
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    empty = False
    for lang, packages in PACKAGES.items():
        seen: dict[str, None] = {}
        for package, patterns, how in packages:
            files = package_files(package, patterns)
            if files is None:
                print(f"{lang} {package}: not installed: apt-get install -y {package}")
                continue
            with ThreadPoolExecutor(4) as pool:
                blocks = [b for bs in pool.map(EXTRACT[how], files) for b in bs]
            fresh = list(dict.fromkeys(ln for ln in prose_lines(blocks, lang) if ln not in seen))
            added = sample(fresh, args.per_package)
            seen.update(dict.fromkeys(added))
            folder = Path(args.out) / lang
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{package}.txt").write_text("".join(f"{ln}\n" for ln in added), "utf-8")
            print(f"{lang} {package}: {len(added)} lines ({len(files)} files, {len(fresh)} found)")
        print(f"{lang}: {len(seen)} lines → {Path(args.out) / lang}/")
        empty |= not seen
    return 1 if empty else 0


if __name__ == "__main__":
    sys.exit(main())

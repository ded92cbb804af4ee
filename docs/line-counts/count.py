#!/usr/bin/env python3
"""Counts the lines of the same formats declared three ways: our [BinaryFormat] declarations (read from the sources),
Kaitai Struct .ksy and binrw (the files next to this script, written for this comparison).

A line counts when it is not blank and not only a comment. For C#, a declaration runs from its [BinaryFormat] attribute
to its closing brace; constants and the hand-written OnValidate hook are left out (the other two have no equivalent).
Run from the repository root: python3 docs/line-counts/count.py
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = "tests/BinaryFormat.Tests/SampleLayouts.cs"
FORMATS = [
    ("GPT header + entry + entry array", "gpt", [(SAMPLES, ["GptHeader", "GptEntry", "GptEntryArray", "Guid16"])]),
    ("PNG file, chunk, IHDR, PLTE, raw chunk", "png",
     [(SAMPLES, ["IPngChunkData", "PngImageHeader", "PngColor", "PngPalette", "PngRawChunk", "PngChunk", "PngFile"])]),
    ("ZIP local file, central entry, end record", "zip", [(SAMPLES, ["ZipLocalFile", "ZipCentralEntry", "ZipEndOfCentralDirectory"])]),
    ("ELF64 header, program and section headers, name", "elf",
     [(SAMPLES, ["Elf64Header", "Elf64ProgramHeader", "Elf64SectionHeader", "ElfName"])]),
    ("qcow2 header extension + bitmap directory entry", "qcow2",
     [("src/Qcow2.Format/Structures/HeaderExtensionFrame.cs", ["HeaderExtensionFrame"]),
      ("src/Qcow2.Format/Structures/BitmapDirectoryEntry.cs", ["BitmapDirectoryEntry"])]),
]


def counted(line, comment):
    text = line.strip()
    return bool(text) and not text.startswith(comment)


def csharp_declaration(lines, name):
    """The lines of one declaration: its attributes, the type line, and its body up to the matching brace."""
    declaration = re.compile(r"\b(struct|class|interface)\s+" + re.escape(name) + r"\b")
    start = next(i for i, line in enumerate(lines) if declaration.search(line))
    while start > 0 and lines[start - 1].strip().startswith("["):
        start -= 1
    if lines[start].rstrip().endswith(";"):  # an empty interface
        return [lines[start]]
    depth, end = 0, start
    for end in range(start, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")
        if "{" in "".join(lines[start:end + 1]) and depth == 0:
            break
    body, skip = [], 0
    for line in lines[start:end + 1]:
        if "partial void OnValidate" in line:
            skip = 1
            continue
        if skip:  # inside the hook: skip until its braces close
            skip += line.count("{") - line.count("}")
            if skip == 1 and line.strip() == "}":
                skip = 0
            continue
        if re.search(r"\bconst\b", line):
            continue
        body.append(line)
    return body


def main():
    print("| Format | BinaryFormat (C#) | Kaitai .ksy | binrw (Rust) |")
    print("|---|--:|--:|--:|")
    totals = [0, 0, 0]
    for title, stem, sources in FORMATS:
        ours = 0
        for path, names in sources:
            lines = open(path, encoding="utf-8").read().splitlines()
            ours += sum(counted(line, "//") for name in names for line in csharp_declaration(lines, name))
        ksy = sum(counted(line, "#") for line in open(os.path.join(HERE, stem + ".ksy"), encoding="utf-8"))
        rs = sum(counted(line, "//") for line in open(os.path.join(HERE, stem + ".rs"), encoding="utf-8"))
        for i, n in enumerate((ours, ksy, rs)):
            totals[i] += n
        print(f"| {title} | {ours} | {ksy} | {rs} |")
    print(f"| **Total** | **{totals[0]}** | **{totals[1]}** | **{totals[2]}** |")


if __name__ == "__main__":
    main()

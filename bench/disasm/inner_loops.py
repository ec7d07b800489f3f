#!/usr/bin/env python3
"""The innermost loops of an aarch64 binary, from `aarch64-linux-gnu-objdump -d -l -C` on stdin.

For each loop (a backward branch and its target, in one function, with no other loop inside)
it prints the number of instructions, of fmla (the FMA count per iteration), of q-register
loads/stores relative to sp (vector spills and reloads), and the source lines the loop was
built from, so a kernel's hot loop can be checked for spills without timing anything under
emulation. Only loops with at least --min-fmla fmla are printed, busiest first.

    aarch64-linux-gnu-objdump -d -l --no-show-raw-insn -C BINARY \\
        | python3 bench/disasm/inner_loops.py --source ukernel/
"""

import argparse
import re
import sys

FUNCTION = re.compile(r"^[0-9a-f]+ <(.*)>:$")
INSTRUCTION = re.compile(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$")
SOURCE = re.compile(r"^(/\S+|\S+\.rs):(\d+)")
BRANCH = re.compile(r"^(b|b\.\w+|cbz|cbnz|tbz|tbnz)$")
TARGET = re.compile(r"\b([0-9a-f]+) <")
STACK_VECTOR = re.compile(r"\bq\d+.*\[sp")


def functions(lines):
    """Yields (name, [(address, mnemonic, operands, source)]) per function."""
    name, body, source = None, [], None
    for line in lines:
        if m := FUNCTION.match(line):
            if name:
                yield name, body
            name, body, source = m.group(1), [], None
        elif m := SOURCE.match(line):
            source = f"{m.group(1).split('/src/')[-1]}:{m.group(2)}"
        elif (m := INSTRUCTION.match(line)) and name:
            body.append((int(m.group(1), 16), m.group(2), m.group(3), source))
    if name:
        yield name, body


def inner_loops(body):
    loops = []
    for address, mnemonic, operands, _ in body:
        if BRANCH.match(mnemonic) and (t := TARGET.search(operands)):
            target = int(t.group(1), 16)
            if target < address and target >= body[0][0]:
                loops.append((target, address))
    return [
        (s, e) for s, e in loops if not any((s, e) != (a, b) and s <= a and b <= e for a, b in loops)
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-fmla", type=int, default=6)
    parser.add_argument("--source", default="", help="only loops built from files matching this")
    args = parser.parse_args()
    rows = []
    for name, body in functions(sys.stdin):
        for start, end in inner_loops(body):
            loop = [i for i in body if start <= i[0] <= end]
            fmla = sum(1 for i in loop if i[1] == "fmla")
            spills = sum(1 for i in loop if i[1] in ("ldr", "str", "ldp", "stp") and STACK_VECTOR.search(i[2]))
            sources = sorted({i[3] for i in loop if i[3] and args.source in i[3]})
            if fmla >= args.min_fmla and (sources or not args.source):
                rows.append((fmla, len(loop), spills, name, sources))
    for fmla, count, spills, name, sources in sorted(rows, key=lambda r: (-r[0], r[3])):
        shown = ", ".join(sources[:4]) + (" ..." if len(sources) > 4 else "")
        print(f"fmla {fmla:4}  instructions {count:4}  stack-q {spills:3}  {shown}  [{name[:90]}]")


if __name__ == "__main__":
    main()

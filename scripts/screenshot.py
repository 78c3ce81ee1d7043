#!/usr/bin/env python3
"""Renders a tmux `capture-pane -e -p` dump (text with ANSI SGR colours) to a PNG.

Usage: screenshot.py IN.ansi OUT.png
Needs Pillow and the DejaVu Sans Mono font (Debian: fonts-dejavu-core).
Used to make the README screenshot from a real run of the TUI.
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67), (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]
DEFAULT_FG, DEFAULT_BG = (220, 220, 220), (24, 24, 28)


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def parse(text):
    rows = []
    fg, bg, bold, rev = DEFAULT_FG, DEFAULT_BG, False, False
    for line in text.split("\n"):
        cells = []
        pos = 0
        for m in re.finditer(r"\x1b\[([0-9;]*)m|([^\x1b]+)", line):
            if m.group(2) is not None:
                for ch in m.group(2):
                    f, b = (bg, fg) if rev else (fg, bg)
                    cells.append((ch, f, b, bold))
                continue
            codes = [int(c) if c else 0 for c in m.group(1).split(";")]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    fg, bg, bold, rev = DEFAULT_FG, DEFAULT_BG, False, False
                elif c == 1:
                    bold = True
                elif c == 22:
                    bold = False
                elif c == 7:
                    rev = True
                elif c == 27:
                    rev = False
                elif 30 <= c <= 37:
                    fg = BASE16[c - 30]
                elif 90 <= c <= 97:
                    fg = BASE16[c - 90 + 8]
                elif 40 <= c <= 47:
                    bg = BASE16[c - 40]
                elif 100 <= c <= 107:
                    bg = BASE16[c - 100 + 8]
                elif c == 39:
                    fg = DEFAULT_FG
                elif c == 49:
                    bg = DEFAULT_BG
                elif c in (38, 48) and i + 1 < len(codes):
                    if codes[i + 1] == 5 and i + 2 < len(codes):
                        col = xterm256(codes[i + 2])
                        i += 2
                    elif codes[i + 1] == 2 and i + 4 < len(codes):
                        col = tuple(codes[i + 2:i + 5])
                        i += 4
                    else:
                        col = DEFAULT_FG if c == 38 else DEFAULT_BG
                    if c == 38:
                        fg = col
                    else:
                        bg = col
                i += 1
        rows.append(cells)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def main():
    src, out = sys.argv[1], sys.argv[2]
    rows = parse(open(src, encoding="utf-8", errors="replace").read())
    font, bold = ImageFont.truetype(FONT, 15), ImageFont.truetype(BOLD, 15)
    cw, ch = 9, 19
    width = max((len(r) for r in rows), default=80)
    img = Image.new("RGB", (width * cw + 20, len(rows) * ch + 20), DEFAULT_BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        for x, (c, f, b, bd) in enumerate(row):
            px, py = 10 + x * cw, 10 + y * ch
            if b != DEFAULT_BG:
                d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=b)
            if c != " ":
                d.text((px, py), c, font=bold if bd else font, fill=f)
    img.save(out)
    print(out, img.size)


if __name__ == "__main__":
    main()

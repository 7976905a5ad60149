"""The cell formats the annotated return adds to a clerk's `styles.xml`: the red mark (a copy of the
cell's own format with the mark's fill, so number format, font, borders and alignment stay), and
the 问题清单 sheet's header and quoted text.

A cell format whose fill is exactly the mark's red is a mark from an earlier return: its fill is
cleared in place, which unmarks every cell that uses it without touching the sheets.
"""

from __future__ import annotations

import re

from diaodu.returns.package import NotEditable, Package, attributes, element, prefix, set_attribute

MARK_RGB = "FFFFC7CE"  # Excel's own light red; reserved for the return's marks
HEADER_RGB = "FFDDDDDD"


class Styles:
    def __init__(self, package: Package, part: str) -> None:
        self.package, self.part = package, part
        self.xml = package.read(part)
        self.p = prefix(self.xml)
        self._marked: dict[int, int] = {}
        self._red_fill: int | None = None

    def _section(self, tag: str) -> tuple[re.Match[str], list[str]]:
        name = re.escape(self.p + tag)
        found = re.search(rf"<{name}\b[^>]*?>(.*?)</{name}>", self.xml, re.S)
        if found is None:
            raise NotEditable(f"styles.xml has no {tag}")
        child = {"fonts": "font", "fills": "fill", "cellXfs": "xf"}[tag]
        return found, element(child, self.p).findall(found.group(1))

    def _replace(self, tag: str, children: list[str]) -> None:
        found, _ = self._section(tag)
        start_tag = set_attribute(self.xml[found.start():found.start(1)], "count", str(len(children)))
        self.xml = f"{self.xml[:found.start()]}{start_tag}{''.join(children)}{self.xml[found.end(1):]}"

    def _add(self, tag: str, child: str) -> int:
        _, children = self._section(tag)
        self._replace(tag, [*children, child])
        return len(children)

    def _fill(self, rgb: str) -> str:
        p = self.p
        return (f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>')

    def clear_old_marks(self) -> None:
        """Clears the fill of every cell format filled with the mark's red."""
        _, fills = self._section("fills")
        red = {str(index) for index, fill in enumerate(fills)
               if re.search(r'patternType="solid"', fill) and re.search(rf'rgb="{MARK_RGB}"', fill, re.I)}
        _, xfs = self._section("cellXfs")
        cleared = [set_attribute(xf, "fillId", "0") if attributes(xf.split(">", 1)[0]).get("fillId") in red else xf
                   for xf in xfs]
        self._replace("cellXfs", cleared)

    def marked(self, original: int) -> int:
        """The cell format `original` with the mark's fill (one new format per original format)."""
        if original not in self._marked:
            _, xfs = self._section("cellXfs")
            if original >= len(xfs):
                original = 0
            if self._red_fill is None:
                self._red_fill = self._add("fills", self._fill(MARK_RGB))
            start, rest = _start_tag(xfs[original])
            start = set_attribute(set_attribute(start, "fillId", str(self._red_fill)), "applyFill", "1")
            self._marked[original] = self._add("cellXfs", start + rest)
        return self._marked[original]

    def header(self) -> int:
        """Bold on grey, for the 问题清单 sheet's first row."""
        _, fonts = self._section("fonts")
        start, rest = _start_tag(fonts[0] if fonts else f"<{self.p}font/>")
        bold_font = (f"{start[:-2]}><{self.p}b/></{self.p}font>" if start.endswith("/>")
                     else f"{start}<{self.p}b/>{rest}")
        font = self._add("fonts", bold_font)
        fill = self._add("fills", self._fill(HEADER_RGB))
        return self._add("cellXfs", f'<{self.p}xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0" '
                                    'xfId="0" applyFont="1" applyFill="1"/>')

    def quoted(self) -> int:
        """Text that stays text when edited (a leading = + - @ would make Excel run it)."""
        return self._add("cellXfs", f'<{self.p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" '
                                    'quotePrefix="1"/>')

    def save(self) -> None:
        self.package.write(self.part, self.xml)


def _start_tag(xml: str) -> tuple[str, str]:
    """An element split after its start tag."""
    end = xml.index(">") + 1
    return xml[:end], xml[end:]

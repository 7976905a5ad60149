"""The fonts the briefing names, and whether this machine can render it.

The page names a font stack for Windows, macOS and Linux; whoever prints or screenshots it on a server
(headless Chromium) needs one CJK font installed there, or every Chinese character prints as a box."""

from __future__ import annotations

import shutil
import subprocess

# Simplified Chinese faces per system, the first installed one wins: Linux (Noto/Source Han, WenQuanYi),
# macOS (PingFang, Hiragino, Heiti/Songti), Windows (Microsoft YaHei, DengXian, SimHei/SimSun).
SANS = ("'Noto Sans CJK SC','Source Han Sans SC','Noto Sans SC','WenQuanYi Micro Hei','PingFang SC',"
        "'Hiragino Sans GB','Heiti SC','Microsoft YaHei','DengXian','SimHei',sans-serif")
SERIF = ("'Noto Serif CJK SC','Source Han Serif SC','Noto Serif SC','AR PL UMing CN','Songti SC','STSong',"
         "'SimSun','NSimSun',serif")

INSTALL_HINT = "请安装中文字体，如 Debian/Ubuntu：sudo apt-get install fonts-noto-cjk"


def missing_cjk_font() -> str | None:
    """A Chinese sentence when fontconfig knows no Chinese font (printing would show boxes), else None;
    also None where there is no fontconfig to ask (Windows, macOS ship CJK fonts)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    return None if found.strip() else f"本机没有中文字体，打印或截图简报时汉字会显示为方框；{INSTALL_HINT}"

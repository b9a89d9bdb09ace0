"""Write server/name_chars.txt: the 2,500 commonest GB2312 level-1 characters, for the web font's
fallback slices (names typed into the pages that no shipped content contains).

Commonness is approximated by how many entries of pypinyin's phrase dictionary (a dependency
already) contain the character. Run again only to change the list: `python scripts/make_name_chars.py`.
"""

from __future__ import annotations

import collections
from pathlib import Path

from pypinyin.phrases_dict import phrases_dict

COUNT = 2500
# The commonest surnames and given-name characters, always in (a phrase dictionary under-counts them).
NAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
         "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫"
         "孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童"
         "凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
         "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅琴云凤珍淑慧建国志新春海燕波斌鹏辉俊峰宇"
         "浩婷雪琳晶欣颖佳倩莉蓉丹荣飞鑫宏亮林晨瑶怡嘉博文彬琦鹤翠菊芬娥秋冬月花香珠宝福贵德才")
OUT = Path(__file__).resolve().parent.parent / "server" / "name_chars.txt"


def gb2312_level1() -> set[str]:
    chars = set()
    for b1 in range(0xB0, 0xD8):
        for b2 in range(0xA1, 0xFF):
            try:
                chars.add(bytes((b1, b2)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def main() -> None:
    level1 = gb2312_level1()
    counts = collections.Counter(c for phrase in phrases_dict for c in phrase if c in level1)
    always = [c for c in dict.fromkeys(NAMES) if c in level1]
    ranked = always + [c for c in sorted(level1, key=lambda c: (-counts[c], ord(c))) if c not in always]
    ranked = ranked[:COUNT]
    text = "".join(sorted(ranked))
    lines = [text[i:i + 50] for i in range(0, len(text), 50)]
    OUT.write_text("# The 2,500 commonest GB2312 level-1 characters (scripts/make_name_chars.py)\n"
                   + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(text)} characters")


if __name__ == "__main__":
    main()

"""What a simulated live-room audience says, and what they are called (pure data, picked by the simulator).

Phrases are written once in traditional Chinese; the simplified form is derived at import, so the
simulated chat mixes both the way a room reached from several regions does. `{p}` in a question is
the short name of the product being sold.
"""

from __future__ import annotations

from livecompanion.textnorm import to_simplified

QUESTIONS = (
    "{p}適合油性皮膚嗎", "{p}適合油性皮膚嗎？", "敏感肌能用嗎", "敏感肌能用嗎？？", "{p}多少錢",
    "多少錢", "怎麼買", "怎麼買啊", "幾號鏈接", "包郵嗎", "什麼時候發貨", "有贈品嗎", "保質期多久",
    "孕婦能用嗎", "男生能用嗎", "學生黨適合嗎", "{p}和上一款能一起用嗎", "{p}多大容量", "可以退嗎",
    "乾皮能用嗎", "{p}有香味嗎", "痘痘肌可以用嗎", "一天用幾次", "{p}是正品嗎", "能開發票嗎",
    "還有庫存嗎", "秒殺什麼時候開始", "{p}怎麼用", "過敏了怎麼辦", "混油皮用哪款",
)

INTENT = (
    "想要", "想要想要", "扣1", "1", "111", "拍了", "已拍", "已下單", "上車", "上車上車", "搶到了",
    "要兩盒", "上鏈接", "快上鏈接", "衝衝衝", "求返場", "給我留一份", "付款了",
)

SOLD_OUT = ("沒搶到", "沒搶到😭", "還會補貨嗎", "手慢了", "求加庫存", "怎麼就沒了", "補貨補貨")

CHAT = (
    "主播好美", "來了來了", "666", "主播晚上好", "哈哈哈", "好看", "支持主播", "今天的妝好好看",
    "打卡", "第一次來", "關注了", "背景音樂是什麼", "主播聲音好好聽", "晚上好呀", "來晚了",
    "又來了", "主播辛苦了", "加油", "場控小姐姐也好看", "每次都來", "老粉報到", "今天狀態真好",
    "這個燈光好", "剛下班", "點贊點贊", "愛了愛了", "主播頭髮好順", "從上一場跟到現在",
)

SPAM = (
    "加V看主頁有福利", "加薇信 lc88866 領紅包", "私信我有貨源一手價", "兼職日結 13812345678",
    "http://t.cn/A6xY9kQ 領券", "www.haoquan-88.com 全場一折", "看我主頁，免費領面膜",
    "招代理，聯繫 15900001111", "V：meimei2024 拉你進群", "點我頭像有驚喜",
)

EMOJI = ("😍", "❤️", "🔥", "👍", "😂", "🙏", "[愛心]", "[玫瑰]", "[呲牙]", "~~", "！", "！！", "？")

NICK_HEADS = (
    "小", "阿", "愛吃", "快樂的", "努力的", "會飛的", "不吃", "想睡的", "溫柔的", "追光的", "今天也要",
    "", "", "", "",
)
NICK_CORES = (
    "魚", "貓", "橘子", "糖糖", "兔子", "小熊", "月亮", "桃子", "薄荷", "芒果", "Lily", "Coco",
    "Amy", "阿珍", "萌萌", "婷婷", "曉雯", "麗麗", "佳佳", "靜靜", "小雨", "晴天", "雲朵", "花卷",
    "奶茶", "可樂", "布丁", "豆豆", "果凍", "櫻桃",
)
NICK_TAILS = ("", "", "", "醬", "呀", "_", "123", "88", "520", "2024", "🌸", "✨", "的日常", "不胖")


def both_scripts(phrases: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(traditional, simplified) forms of the same phrases, in the same order."""
    return phrases, tuple(to_simplified(p) for p in phrases)


QUESTIONS_BOTH = both_scripts(QUESTIONS)
INTENT_BOTH = both_scripts(INTENT)
SOLD_OUT_BOTH = both_scripts(SOLD_OUT)
CHAT_BOTH = both_scripts(CHAT)
SPAM_BOTH = both_scripts(SPAM)


def nickname(user_number: int) -> str:
    """A stable display name for a simulated viewer (the same viewer always has the same name)."""
    mixed = (user_number * 2654435761) & 0xFFFFFFFF  # Knuth's multiplicative hash: spread neighbours
    head = NICK_HEADS[mixed % len(NICK_HEADS)]
    core = NICK_CORES[(mixed >> 8) % len(NICK_CORES)]
    tail = NICK_TAILS[(mixed >> 16) % len(NICK_TAILS)]
    return f"{head}{core}{tail}"


PRODUCT_NOUNS = (
    "面膜", "精華", "面霜", "禮盒", "乳液", "爽膚水", "洗面奶", "口紅", "防曬", "眼霜", "粉底", "套裝",
    "礼盒", "精华", "洗面奶", "防晒",
)


def short_name(product_name: str) -> str:
    """What a viewer calls a product: 這款 + the kind of thing it is when the name says it."""
    for noun in PRODUCT_NOUNS:
        if noun in product_name:
            return f"這款{noun}"
    return "這款"

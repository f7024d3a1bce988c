"""What the demo tickets say (`kefu init --demo`), per profile and top category: the
problems customers report, what the departments record and reply, the results and
their causes (the rest of the wording is in `demo_phrases`).

Data, not interface text: it is stored in the tickets as a person would have typed it.
A topic's `issues` serve a top category without leaves; leaves have their own
(`demo_phrases.LEAF_ISSUES`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A top category of a profile: the problems reported under it (title, detail) and
    what its handling sounds like."""

    issues: tuple[tuple[str, str], ...]
    handling: tuple[str, ...]
    replies: tuple[str, ...]
    resolutions: tuple[str, ...]
    causes: tuple[str, ...]


_DECORATION = {
    "施工质量": Topic(
        issues=(),
        handling=("监理上门查看，拍照记录问题部位并确定返修方案", "安排班组进场返修，已完成基层处理"),
        replies=("已返修完毕，经业主现场验收认可", "问题部位已按规范重新施工，附返修照片"),
        resolutions=("工程部安排返修，业主现场验收合格", "已完成返修并延长该部位保修期一年"),
        causes=("基层处理不到位，施工班组未按工艺标准操作", "材料养护时间不足即进入下道工序"),
    ),
    "工期延误": Topic(
        issues=(),
        handling=("项目经理与业主沟通，重新制定施工进度表", "增派一个班组加快尾期施工"),
        replies=("已调整进度计划，预计两周内完工", "已按新进度完成主要项目"),
        resolutions=("与业主签订进度确认单，按约定赔付延期违约金", "已按新计划完工，业主同意验收"),
        causes=("班组调度不当，同时承接项目过多", "材料到货延误未及时通知业主"),
    ),
    "服务态度": Topic(
        issues=(),
        handling=("部门负责人约谈当事人并电话向客户致歉", "调取通话录音核实情况"),
        replies=("已对当事人进行批评教育，并向客户当面道歉", "情况属实，已调整对接人员"),
        resolutions=("向客户致歉并更换对接人员，客户表示接受", "当事人已书面检讨，客户接受道歉"),
        causes=("员工服务意识不足，沟通方式不当", "工作量大时情绪控制不佳"),
    ),
    "材料问题": Topic(
        issues=(),
        handling=("材料部与供应商到现场核验批次和品牌", "送检样品，等待检测报告"),
        replies=("已按合同品牌更换材料", "检测合格，已向业主出示报告并解释原因"),
        resolutions=("更换为合同约定材料，费用由公司承担", "材料检测合格，问题为铺装环境湿度导致，已整改"),
        causes=("供应商发货错误，进场验收未核对", "铺装前未检测地面含水率"),
    ),
    "费用争议": Topic(
        issues=(),
        handling=("财务与预算员逐项核对结算单", "约业主到公司面谈核对增项明细"),
        replies=("核对后重复计算部分已扣除", "增项明细已逐项说明，业主签字确认"),
        resolutions=("重新出具结算单，退还多收款项", "向业主说明增项依据，双方达成一致"),
        causes=("预算员计算面积重复", "增项未按流程事先书面告知业主"),
    ),
    "水电维修": Topic(
        issues=(),
        handling=("维修师傅上门检测，更换接口密封件", "排查线路，更换老化开关"),
        replies=("已修复，试水/通电正常", "维修完成，业主确认"),
        resolutions=("上门维修完成，保修期内免费", "已修复并告知日常使用注意事项"),
        causes=("接口密封件老化", "开关接线松动"),
    ),
    "木作维修": Topic(
        issues=(("柜门铰链松动下垂", "厨房吊柜两扇柜门铰链松动，门板下垂。"),),
        handling=("维修师傅上门调整铰链并加固",),
        replies=("已调整加固，开合正常",),
        resolutions=("上门维修完成",),
        causes=("铰链螺丝松动",),
    ),
    "墙面维修": Topic(
        issues=(("墙面局部起皮脱落", "次卧窗边墙面乳胶漆起皮，面积约半平方米。"),),
        handling=("铲除起皮部位，重新批腻子刷漆",),
        replies=("墙面已修补完成",),
        resolutions=("墙面修补完成，业主满意",),
        causes=("窗台渗水导致墙面受潮",),
    ),
    "门窗维修": Topic(
        issues=(("推拉门滑轨卡顿", "阳台推拉门推拉费力，滑轨有异响。"),),
        handling=("清理滑轨并更换滑轮",),
        replies=("已更换滑轮，推拉顺畅",),
        resolutions=("维修完成",),
        causes=("滑轮磨损",),
    ),
}

_HEALTH = {
    "体检流程": Topic(
        issues=(),
        handling=("前台调取当日排队记录，核对套餐项目", "电话联系客户预约补检时间"),
        replies=("已为客户安排免费补检并优先通道", "已优化抽血窗口排班"),
        resolutions=("安排补检并赠送一次口腔检查", "向客户致歉，高峰时段增开抽血窗口"),
        causes=("高峰时段人员安排不足", "导检单未勾选该项目"),
    ),
    "报告问题": Topic(
        issues=(),
        handling=("报告中心核对报告录入信息", "催促外送检验结果并加急审核"),
        replies=("已重新出具正确报告并快递寄出", "报告已审核发出"),
        resolutions=("更正报告并当面致歉", "加急出具报告并由医生电话解读"),
        causes=("登记时信息录入错误", "外送检验结果回传延迟"),
    ),
    "服务态度": Topic(
        issues=(),
        handling=("科室负责人与当事人谈话", "查看现场监控核实经过"),
        replies=("已批评教育当事人并组织服务培训", "当事人已电话向客户致歉"),
        resolutions=("向客户致歉，当事人纳入月度考核", "客户接受道歉"),
        causes=("服务意识不强", "高峰期沟通不足"),
    ),
    "收费问题": Topic(
        issues=(("加项收费与告知不符", "现场加做的项目收费比前台告知的价格高出 120 元。"),),
        handling=("财务核对收费明细",),
        replies=("确认多收，已办理退费",),
        resolutions=("退还多收费用并致歉",),
        causes=("价目表未及时更新",),
    ),
    "检查结果": Topic(
        issues=(),
        handling=("科室复核原始数据和图像", "安排主任医师复查"),
        replies=("复核结果已向客户解释，建议三个月后复查", "复查结果正常，已出具说明"),
        resolutions=("免费复查并由主任医师解读", "向客户解释检查结果的正常波动范围"),
        causes=("标本放置时间过长影响结果", "检查前未告知空腹等注意事项"),
    ),
    "设施设备": Topic(
        issues=(("更衣柜门锁损坏", "女宾更衣区 12 号柜门锁损坏，客户物品无法取出。"),),
        handling=("后勤更换门锁",),
        replies=("已修复",),
        resolutions=("门锁已更换",),
        causes=("门锁老化",),
    ),
}

_MANUFACTURING = {
    "产品质量": Topic(
        issues=(),
        handling=("售后工程师到现场检测，读取仪表日志", "技术部远程分析称重数据，确定故障部件"),
        replies=("已更换故障传感器并重新标定，复磅偏差在允许范围内", "生产部确认为批次问题，已更换"),
        resolutions=("更换故障部件并重新检定，客户确认数据正常", "免费更换仪表并延长保修期半年"),
        causes=("传感器密封不良进水", "出厂标定参数设置错误"),
    ),
    "交货延误": Topic(
        issues=(("设备交货比合同晚两周", "合同约定 15 日前交货，至今未发货，影响收费站改造工期。"),),
        handling=("销售部与生产部协调排产",),
        replies=("已加急生产并发货，物流单号已告知客户",),
        resolutions=("设备已送达，按合同约定承担延期责任",),
        causes=("关键零部件供应商延迟供货",),
    ),
    "服务态度": Topic(
        issues=(("售后人员未按约定到场", "约定上午到场调试，售后人员下午才到，也没有提前电话告知。"),),
        handling=("售后服务部核实派工记录",),
        replies=("已向客户致歉，调整派工流程",),
        resolutions=("致歉并赠送一次免费巡检",),
        causes=("派工信息未及时同步",),
    ),
    "安装调试": Topic(
        issues=(("新装动态秤调试后仍不稳定", "安装调试完成后一周，动态称重数据波动大，多次超差。"),),
        handling=("售后工程师复测基础和线路",),
        replies=("已重新调试，连续三天数据稳定",),
        resolutions=("重新调试合格，客户签字验收",),
        causes=("基础平整度不达标",),
    ),
    "计重收费设备": Topic(
        issues=(("计重收费车道称台报故障", "2 号车道称台故障灯常亮，车辆只能改道通行。"),),
        handling=("工程师到站检修，更换接线盒",),
        replies=("车道恢复正常",),
        resolutions=("维修完成，车道恢复通行",),
        causes=("接线盒受潮短路",),
    ),
    "超限检测设备": Topic(
        issues=(("超限检测仪数据不上传", "检测站超限检测数据无法上传平台，需人工补录。"),),
        handling=("远程检查通讯模块并现场更换",),
        replies=("数据上传恢复",),
        resolutions=("更换通讯模块，数据补传完成",),
        causes=("通讯模块故障",),
    ),
    "通常衡器": Topic(
        issues=(("地磅显示数值漂移", "空磅时显示数值在 ±40 公斤之间漂移。"),),
        handling=("清理秤台杂物并重新标定",),
        replies=("已标定，零点稳定",),
        resolutions=("维修标定完成",),
        causes=("秤台下积泥影响传感器",),
    ),
}

_RETAIL = {
    "商品质量": Topic(
        issues=(("电饭煲使用一周内胆脱漆", "购买的电饭煲使用一周内胆涂层脱落，担心影响健康。"),),
        handling=("销售部联系厂家核实批次",),
        replies=("厂家同意更换新品",),
        resolutions=("为客户更换新品并赠送积分",),
        causes=("该批次内胆涂层工艺缺陷",),
    ),
    "服务态度": Topic(
        issues=(),
        handling=("门店店长调看监控并与当事人谈话",),
        replies=("已对当事人进行处罚并安排服务培训",),
        resolutions=("向客户道歉并赠送购物券",),
        causes=("员工服务规范执行不到位",),
    ),
    "价格问题": Topic(
        issues=(("结账价格与标价不符", "货架标价 59.9 元，结账时按 79.9 元收费。"),),
        handling=("核对价签与系统价格",),
        replies=("确认价签未及时更换，已退差价",),
        resolutions=("退还差价并按规定补偿",),
        causes=("促销结束后价签未及时撤换",),
    ),
    "售后服务": Topic(
        issues=(("送货延迟且未通知", "约定周六送货上门，全天未到，也没有人联系。"),),
        handling=("物流配送部核查配送记录",),
        replies=("已重新安排送货并致歉",),
        resolutions=("次日送达，免除配送费",),
        causes=("配送车辆调度失误",),
    ),
    "质量问题退货": Topic(
        issues=(),
        handling=("物流配送部上门取件并检验",),
        replies=("检验确认质量问题，同意退货",),
        resolutions=("已办理退货退款",),
        causes=("商品存在质量缺陷",),
    ),
    "无理由退换": Topic(
        issues=(),
        handling=("门店核对商品完好情况",),
        replies=("商品完好，已办理换货",),
        resolutions=("已按七天无理由规定办理",),
        causes=("客户尺码选择不当",),
    ),
}

_CLINIC = {
    "术后效果": Topic(
        issues=(),
        handling=("主诊医生面诊评估", "组织病例讨论会，制定修复方案"),
        replies=("已安排免费修复治疗", "经评估属正常恢复期表现，已详细解释并约定复诊"),
        resolutions=("免费修复治疗，客户对效果满意", "按方案治疗后恢复良好"),
        causes=("术前沟通不充分，客户预期过高", "个体恢复差异"),
    ),
    "服务态度": Topic(
        issues=(),
        handling=("客服中心与当事人谈话并调取记录",),
        replies=("当事人已向客户致歉，纳入考核",),
        resolutions=("致歉并调整对接人员",),
        causes=("沟通话术不规范",),
    ),
    "收费问题": Topic(
        issues=(("疗程费用与报价不符", "结账时发现项目费用比咨询报价高出 800 元。"),),
        handling=("财务核对收费明细与报价单",),
        replies=("核实为套餐价格使用错误，已退费",),
        resolutions=("退还差额并致歉",),
        causes=("收费系统套餐价格未更新",),
    ),
    "等候时间": Topic(
        issues=(("预约后等候超过一小时", "预约上午十点治疗，实际十一点二十分才开始。"),),
        handling=("现场咨询核查当日预约排班",),
        replies=("已调整预约间隔",),
        resolutions=("致歉并赠送护理项目一次",),
        causes=("预约排程过密",),
    ),
}

_OTHER = Topic(
    issues=(
        ("对回访频次有意见", "客户表示回访电话过于频繁，影响工作。"),
        ("停车不便", "客户反映门店停车位不足，排队时间长。"),
    ),
    handling=("客服部核实情况并与相关部门沟通",),
    replies=("已按客户要求调整",),
    resolutions=("已向客户说明并调整",),
    causes=("工作安排考虑不周",),
)

TOPICS: dict[str, dict[str, Topic]] = {
    "decoration": _DECORATION,
    "health_check": _HEALTH,
    "manufacturing": _MANUFACTURING,
    "retail": _RETAIL,
    "clinic": _CLINIC,
}


def topic(profile: str, top: str | None) -> Topic:
    return TOPICS.get(profile, {}).get(top or "", _OTHER)

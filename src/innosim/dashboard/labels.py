"""The dashboard's words, in English and Chinese.

:data:`LABELS` holds the dashboard's own strings; :func:`text` falls back to the report's
catalog (:data:`innosim.report.labels.LABELS`) for keys that fit both (metric names, units,
"City", "Year"), so a metric is named the same on the page and in the HTML report. City names
come from the scenario (``name_zh``), never from here.
"""

from __future__ import annotations

from typing import Final

from innosim.report.labels import LABELS as REPORT_LABELS
from innosim.report.labels import LANGS

__all__ = ["LABELS", "LANGS", "REPORT_KEYS", "text"]

LABELS: Final[dict[str, dict[str, str]]] = {
    # page
    "title": {"en": "innosim dashboard", "zh": "innosim 仪表盘"},
    "subtitle": {
        "en": "Move a city's levers, run the model, compare two policies.",
        "zh": "调整城市政策杠杆，运行模型，比较两套政策。",
    },
    "language": {"en": "Language", "zh": "语言"},
    # setup
    "scenario": {"en": "Scenario", "zh": "情景"},
    "scale": {"en": "Agent scale", "zh": "代理规模"},
    "scale_help": {
        "en": "{agents:,} person-agents x {ticks} quarters = {size:,} agent-ticks "
        "(limit {limit:,})",
        "zh": "{agents:,} 个个人代理 x {ticks} 个季度 = {size:,} 代理步（上限 {limit:,}）",
    },
    "seed": {"en": "Seed", "zh": "随机种子"},
    "editing": {"en": "Editing policy", "zh": "正在编辑的政策"},
    "policy_a": {"en": "Policy A", "zh": "政策 A"},
    "policy_b": {"en": "Policy B", "zh": "政策 B"},
    "copy_a_to_b": {"en": "Copy A to B", "zh": "将 A 复制到 B"},
    "reset": {"en": "Reset to scenario", "zh": "恢复情景取值"},
    "city": {"en": "City", "zh": "城市"},
    "levers": {"en": "Levers of {city}", "zh": "{city}的政策杠杆"},
    "levers_note": {
        "en": "Sliders set values from the first year; the scenario's policy timeline still "
        "applies from its years.",
        "zh": "滑块设定起始年份的取值；情景中的政策时间表仍按其年份生效。",
    },
    "timeline_entry": {
        "en": "{year:g}: {lever} = {value:g}",
        "zh": "{year:g} 年：{lever} = {value:g}",
    },
    "waves": {"en": "Technology-wave timeline (start year)", "zh": "技术浪潮时间表（起始年份）"},
    "demand_shares": {
        "en": "Demand mix: To C {c:.0%}, To B {b:.0%}, To G {g:.0%}",
        "zh": "需求结构：面向消费者 {c:.0%}，面向企业 {b:.0%}，面向政府 {g:.0%}",
    },
    # lever groups and levers
    "g_culture": {"en": "Tolerance of failure", "zh": "失败容忍"},
    "g_demand": {"en": "Demand mix", "zh": "需求结构"},
    "g_capital": {"en": "Fund risk appetite", "zh": "基金风险偏好"},
    "g_place": {"en": "Labs and compute", "zh": "实验室与算力"},
    "g_talent": {"en": "Talent programmes", "zh": "人才计划"},
    "p_failure_tolerance": {"en": "Failure tolerance", "zh": "失败容忍度"},
    "p_demand_consumer": {"en": "Consumer demand (To C)", "zh": "消费者需求（To C）"},
    "p_demand_enterprise": {"en": "Enterprise demand (To B)", "zh": "企业需求（To B）"},
    "p_demand_government": {"en": "Government demand (To G)", "zh": "政府需求（To G）"},
    "p_risk_appetite": {"en": "Risk appetite of funds", "zh": "基金风险偏好"},
    "p_labs": {"en": "Research labs (initial stock)", "zh": "研究实验室（初始存量）"},
    "p_compute": {"en": "Compute (initial stock)", "zh": "算力（初始存量）"},
    "p_lab_investment": {"en": "Yearly lab investment", "zh": "实验室年度投入"},
    "p_compute_investment": {"en": "Yearly compute investment", "zh": "算力年度投入"},
    "p_talent_programme": {"en": "Talent programme bonus", "zh": "人才计划吸引力"},
    # running
    "run": {"en": "Run policy {slot}", "zh": "运行政策 {slot}"},
    "run_both": {"en": "Run A and B (same seed)", "zh": "运行 A 与 B（相同种子）"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "running": {
        "en": "Running policy {slot}: quarter {done} of {total}",
        "zh": "正在运行政策 {slot}：第 {done}/{total} 个季度",
    },
    "waiting": {"en": "Waiting for a free run slot…", "zh": "正在等待空闲的运行槽位…"},
    "starting": {"en": "Starting…", "zh": "正在启动…"},
    "cancelled": {"en": "Run cancelled.", "zh": "运行已取消。"},
    "finished": {
        "en": "Policy {slot}: {scenario}, seed {seed}, scale {scale:g}, {seconds:.1f} s.",
        "zh": "政策 {slot}：{scenario}，种子 {seed}，规模 {scale:g}，用时 {seconds:.1f} 秒。",
    },
    "refused": {"en": "Request refused: {reason}", "zh": "请求被拒绝：{reason}"},
    "too_large": {
        "en": "Request refused: the run is too large ({size:,} agent-ticks = {agents:,} agents "
        "x {ticks} quarters; the limit is {limit:,}). Choose a smaller scale.",
        "zh": "请求被拒绝：运行规模过大（{size:,} 代理步 = {agents:,} 个代理 x {ticks} 个季度；"
        "上限为 {limit:,}）。请选择更小的规模。",
    },
    "busy": {
        "en": "Request refused: the server is busy ({running} runs running, {waiting} waiting). "
        "Try again in a moment.",
        "zh": "请求被拒绝：服务器繁忙（{running} 个运行中，{waiting} 个等待中）。请稍后再试。",
    },
    "failed": {"en": "The run failed: {reason}", "zh": "运行失败：{reason}"},
    "no_run": {
        "en": "No run yet: move the levers and press Run.",
        "zh": "尚无运行结果：调整政策杠杆后点击运行。",
    },
    # tabs
    "tab_charts": {"en": "Charts", "zh": "图表"},
    "tab_compare": {"en": "Compare A and B", "zh": "比较 A 与 B"},
    "tab_index": {"en": "TOP index", "zh": "TOP 指数"},
    "tab_download": {"en": "Download", "zh": "下载"},
    # charts and numbers
    "showing": {"en": "Showing", "zh": "显示"},
    "headline_va": {
        "en": "Value added in {year}, all cities: {value:,.1f}",
        "zh": "{year} 年全部城市增加值：{value:,.1f}",
    },
    "headline_firms": {
        "en": "Innovative firms in {year}: {value:,.0f}",
        "zh": "{year} 年创新企业数：{value:,.0f}",
    },
    "summary": {"en": "Last year by city", "zh": "各城市末年数值"},
    "compare_need": {
        "en": "Run both policies with the same scenario, scale and seed to compare them "
        '("Run A and B").',
        "zh": "请以相同情景、规模和种子运行两套政策后再比较（“运行 A 与 B”）。",
    },
    "compare_title": {
        "en": "{metric}: policy A (left) and B (right)",
        "zh": "{metric}：政策 A（左）与 B（右）",
    },
    "compare_table": {"en": "Last year: B minus A", "zh": "末年：B 减 A"},
    "h_metric": {"en": "Metric", "zh": "指标"},
    "h_a": {"en": "A", "zh": "A"},
    "h_b": {"en": "B", "zh": "B"},
    "h_diff": {"en": "B - A", "zh": "B - A"},
    "h_rel": {"en": "Change", "zh": "变化"},
    # index
    "index_intro": {
        "en": "The TOP (Talent, Organization, Place) index of the sourced cities, from the shipped "
        "framework and data, with 5-95% rank intervals over {draws} Monte Carlo draws.",
        "zh": "基于内置框架与数据计算的各城市 TOP（人才、组织、场所）指数，"
        "排名区间为 {draws} 次蒙特卡洛抽样的 5%-95% 区间。",
    },
    "index_loading": {"en": "Computing the index…", "zh": "正在计算指数…"},
    "index_score": {"en": "Overall score (0-100)", "zh": "综合得分（0-100）"},
    "h_talent": {"en": "Talent", "zh": "人才"},
    "h_organization": {"en": "Organization", "zh": "组织"},
    "h_place": {"en": "Place", "zh": "场所"},
    "h_score": {"en": "Score", "zh": "得分"},
    "h_rank": {"en": "Rank", "zh": "排名"},
    "h_rank_interval": {"en": "Rank interval", "zh": "排名区间"},
    # downloads
    "download_intro": {
        "en": "The yearly table of a run (one row per city and year, every model output).",
        "zh": "运行的逐年数据表（每个城市每年一行，包含全部模型输出）。",
    },
    "download_csv": {"en": "Policy {slot} as CSV", "zh": "政策 {slot}（CSV）"},
    "download_parquet": {"en": "Policy {slot} as Parquet", "zh": "政策 {slot}（Parquet）"},
    "limits": {
        "en": "Limits: at most {limit:,} agent-ticks per run; {running} runs at once on this "
        "server, {waiting} waiting.",
        "zh": "限制：每次运行最多 {limit:,} 代理步；本服务器同时最多运行 {running} 个，"
        "等待 {waiting} 个。",
    },
}
"""Dashboard label key -> {language -> text}; texts may hold ``str.format`` fields."""

REPORT_KEYS: Final[tuple[str, ...]] = tuple(k for k in REPORT_LABELS if k not in LABELS)
"""Report labels the dashboard reuses through :func:`text` (metric names, units, axes)."""


def text(key: str, lang: str, **fields: object) -> str:
    """The text of ``key`` in ``lang`` (``"en"`` or ``"zh"``), dashboard catalog first, then the
    report's; ``fields`` are filled in with :meth:`str.format`."""
    entry = LABELS.get(key) or REPORT_LABELS[key]
    s = entry[lang if lang in LANGS else "en"]
    return s.format(**fields) if fields else s

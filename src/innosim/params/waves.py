"""The technology-wave timeline, declared as data.

A wave is a new market (PC internet, e-commerce, mobile payment, AI ...) that starts in a given
year, grows along a logistic S-curve to a saturated size, and declines once it has aged past
``wave_life_years`` (claims C1, C7). Each wave states what share of its market is consumer-facing
and how much it requires compute, chips, supply chains and labs; cities with better access to
those (C1, C2) see more founding in it and more productive firms. Scenario files may replace the
whole timeline with their own ``[[wave]]`` tables.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WaveSpec(BaseModel):
    """One technology wave.

    Attributes
    ----------
    name : str
        Label.
    start_year : float
        Calendar year the market opens.
    weight : float
        Saturated market size relative to a unit wave (times ``market_per_person``).
    growth_rate : float
        Logistic growth rate of the market (1/yr); the mid-point is ``4 / growth_rate`` years
        after the start.
    toc_share : float
        Share of the wave's market that is consumer-facing (To C); the rest is enterprise (To B).
    requires_compute, requires_chips, requires_supply_chain, requires_labs : float
        Exponents of the city's access to each input in the wave's local cost advantage.
    source : str
        Where the date and character of the wave come from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    start_year: float = Field(ge=1900, le=2200)
    weight: float = Field(gt=0, le=100)
    growth_rate: float = Field(gt=0, le=5)
    toc_share: float = Field(ge=0, le=1)
    requires_compute: float = Field(default=0.0, ge=0, le=5)
    requires_chips: float = Field(default=0.0, ge=0, le=5)
    requires_supply_chain: float = Field(default=0.0, ge=0, le=5)
    requires_labs: float = Field(default=0.0, ge=0, le=5)
    source: str = ""


REQUIREMENTS: tuple[str, ...] = ("compute", "chips", "supply_chain", "labs")

DEFAULT_WAVES: tuple[WaveSpec, ...] = (
    WaveSpec(
        name="PC internet",
        start_year=1997,
        weight=1.0,
        growth_rate=0.6,
        toc_share=0.7,
        requires_compute=0.2,
        source="Sina, Sohu, NetEase founded 1997-98 (C7: a client-driven city missed the internet)",
    ),
    WaveSpec(
        name="e-commerce",
        start_year=2003,
        weight=2.0,
        growth_rate=0.5,
        toc_share=0.8,
        requires_supply_chain=0.6,
        source="Taobao 2003 (C6); small-commodity supply chains (C2)",
    ),
    WaveSpec(
        name="enterprise IT and cloud",
        start_year=2009,
        weight=1.2,
        growth_rate=0.4,
        toc_share=0.15,
        requires_compute=0.6,
        source="Alibaba Cloud 2009; software outsourcing (C4)",
    ),
    WaveSpec(
        name="mobile internet",
        start_year=2010,
        weight=2.0,
        growth_rate=0.7,
        toc_share=0.8,
        requires_chips=0.2,
        source="3G/4G licences 2009-13 (C7)",
    ),
    WaveSpec(
        name="mobile payment",
        start_year=2013,
        weight=1.5,
        growth_rate=0.7,
        toc_share=0.75,
        source="Alipay mobile, WeChat Pay 2013-14 (C6)",
    ),
    WaveSpec(
        name="industrial software and smart manufacturing",
        start_year=2015,
        weight=1.2,
        growth_rate=0.35,
        toc_share=0.1,
        requires_supply_chain=0.4,
        requires_labs=0.4,
        source="Made in China 2025 (2015); the 'deep-sea anchor' path (C12)",
    ),
    WaveSpec(
        name="new-energy vehicles",
        start_year=2015,
        weight=2.0,
        growth_rate=0.45,
        toc_share=0.6,
        requires_chips=0.5,
        requires_supply_chain=0.8,
        source="NEV subsidies 2014-15; BYD, NIO, Li Auto (C6, C7)",
    ),
    WaveSpec(
        name="innovative drugs",
        start_year=2015,
        weight=1.0,
        growth_rate=0.3,
        toc_share=0.2,
        requires_labs=1.0,
        source="Drug-approval reform 2015 (C12: innovative drugs)",
    ),
    WaveSpec(
        name="short video and live streaming",
        start_year=2016,
        weight=1.5,
        growth_rate=0.8,
        toc_share=0.85,
        requires_supply_chain=0.3,
        source="Douyin 2016; live-streaming e-commerce (C6)",
    ),
    WaveSpec(
        name="AI",
        start_year=2020,
        weight=2.5,
        growth_rate=0.6,
        toc_share=0.55,
        requires_compute=1.0,
        requires_chips=0.5,
        requires_labs=0.3,
        source="DAMO Academy LLM 2020, a provincial AI lab (2017), DeepSeek (C1)",
    ),
    WaveSpec(
        name="robotics",
        start_year=2022,
        weight=1.5,
        growth_rate=0.5,
        toc_share=0.45,
        requires_chips=0.6,
        requires_supply_chain=0.8,
        source="Unitree, Deep Robotics (C2)",
    ),
)

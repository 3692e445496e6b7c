"""innosim's core model written idiomatically in Mesa: one Python object per agent.

This is the reference for issue 6 ("100x Mesa on the same model"). It applies the rules of the
core mechanisms (``innosim.model.CORE_MECHANISMS``: waves, founding, orientation, growth,
finance, exits, accounting) in the engine's order, agent by agent, with Python loops and
Python's ``random`` (``Model.random``), the way a Mesa user would write it. The switched-off
mechanisms (policy, place, talent, careers, chains) keep their values from the start of the
run, as in ``innosim.run(scenario, seed, disable=...)``: levers stay at their base values,
``fit`` and ``access`` stay 1, nobody enters, retires, moves or is hired, and there are no
chain masters or supplier purchases.

Scale: as in innosim, one ``Person`` stands for ``weight`` real people (a weighted sample of the
population, about ``persons_per_agent`` each), while firms are real firms with real headcounts
and money at any agent scale. Every real person perceives opportunities on their own; a founder
from a ``Person`` of several people splits off as a new ``Person`` of weight one.

Parameters are the innosim scenario's own (``innosim.load_scenario`` then
``compile_params``), so both models read the same numbers. Random streams differ (this model
draws from one ``random.Random``), so the two agree in distribution, not draw by draw. See
README.md for what is the same and what is simplified.
"""

from __future__ import annotations

import math
import statistics
from types import SimpleNamespace

import mesa
import numpy as np

from innosim.engine.state import Flows, compile_params, lever_defaults
from innosim.model import CORE_MECHANISMS, NAMES
from innosim.params.scenario import Scenario
from innosim.schema import TICKS_PER_YEAR

GRADUATE_SHARE_AT_START = 0.15  # as innosim.model.runner.GRADUATE_SHARE_AT_START

WORKER, FOUNDER = 0, 2  # innosim's status codes (there are no employee rows: staff are headcounts)
TOC, TOB, TOG = 0, 1, 2
DEATH_FAILURE, DEATH_CLOSURE, DEATH_ACQUIRED = 1, 2, 3

DISABLED = frozenset(n for n in NAMES if n not in CORE_MECHANISMS)
"""The mechanisms this reference leaves out (innosim's ``disable=`` for the same run)."""


VALUE_SCALE = math.sqrt(3.0) / math.pi


def _logistic(random) -> float:
    """The founding value q: logistic with unit variance (as innosim's founding kernel)."""
    u = min(max(random.random(), 1e-300), 1.0 - 1e-16)
    return VALUE_SCALE * math.log(u / (1.0 - u))


def per_tick(rate_per_year: float) -> float:
    """Probability per tick of an event with the given yearly hazard rate."""
    return -math.expm1(-rate_per_year / TICKS_PER_YEAR)


def _pick(rnd, cum: list[float]) -> int:
    """Index drawn from a cumulative distribution (last entry = total weight)."""
    u = rnd.random() * cum[-1]
    for i, c in enumerate(cum):
        if u < c:
            return i
    return len(cum) - 1


def _binomial(rnd, n: int, p: float) -> int:
    """How many of ``n`` people, each independently with probability ``p``, do something: the
    gaps between them are geometric, so this draws one uniform per success plus one."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    log1m = math.log1p(-p)
    k, i = 0, int(math.log(1.0 - rnd.random()) / log1m)  # people passed over before the first
    while i < n:
        k += 1
        i += 1 + int(math.log(1.0 - rnd.random()) / log1m)
    return k


def weighted_rows(people: list[int], persons_per_agent: float) -> list[list[int]]:
    """The weights of every city's rows: ``ceil(people / persons_per_agent)`` rows sharing the
    city's real people as evenly as integers allow, the first rows one more (as
    ``innosim.engine.ops.weighted_rows``)."""
    per = max(float(persons_per_agent), 1.0)
    out = []
    for n in people:
        rows = math.ceil(n / per) if n > 0 else 0
        base, extra = divmod(n, rows) if rows else (0, 0)
        out.append([base + (k < extra) for k in range(rows)])
    return out


def _cumulative(weights) -> list[float]:
    out, s = [], 0.0
    for w in weights:
        s += max(float(w), 0.0)
        out.append(s)
    return out


# -- agents -------------------------------------------------------------------------------
class Person(mesa.Agent):
    """A row of the sampled population: ``weight`` real people with the same record (about
    ``persons_per_agent`` at the start; exactly one for a founder or anyone who has founded)."""

    def __init__(self, model: InnoModel, city: int, skill: float, weight: int = 1) -> None:
        super().__init__(model)
        self.city = city
        self.weight = weight
        self.status = WORKER
        self.employer: Firm | None = None
        self.skill = skill
        self.tenure = 0
        self.ventures = 0
        self.failures = 0
        self.successes = 0
        self.last_outcome = 0  # 0 none, 1 failure, 2 success

    # founding (C8, C9, C10) -----------------------------------------------------------------
    def consider_founding(self) -> None:
        """Each of the row's real people perceives an opportunity on their own (a founder's
        row does not); every perceiver values it against the city's failure penalty."""
        m = self.model
        g, lv, c = m.g, m.levers, self.city
        if self.status == FOUNDER:
            return
        # someone who founded before perceives at the serial rate (innosim's founding)
        rate = m.p_serial[c] if self.ventures > 0 else m.p_perceive[c]
        perceivers = _binomial(m.random, self.weight, rate)
        for _ in range(perceivers):  # the row's record is theirs; a split leaves it as it is
            failed = self.failures > 0
            value = (
                _logistic(m.random)
                + g.founder_skill_weight * self.skill
                + g.founder_experience_weight * self.ventures
                - g.founding_threshold
            )
            penalty = (
                g.failure_cost * (1.0 - lv.failure_tolerance[c])
                + lv.process_control[c]
                - lv.private_support[c]
                + failed * (lv.stigma[c] + lv.restart_cost[c])
            )
            found = value - penalty > 0
            m.flows["perceivers"][c] += 1
            m.flows["deterred"][c] += value > 0 and not found
            m.flows["restart_candidates"][c] += failed
            m.flows["restarts"][c] += failed and found
            if found:
                self.founder_person().found_firm()

    def founder_person(self) -> Person:
        """The person who founds: one of this row's people split off as a new ``Person`` of
        weight one (a copy of the row's record) while the row stands for several, else the row
        itself."""
        if self.weight <= 1:
            return self
        self.weight -= 1
        one = Person(self.model, self.city, self.skill, weight=1)
        one.tenure, one.ventures = self.tenure, self.ventures
        one.failures, one.successes, one.last_outcome = (
            self.failures,
            self.successes,
            self.last_outcome,
        )
        return one

    def found_firm(self) -> None:
        m = self.model
        g = m.g
        wave = _pick(m.random, m.wave_cum[self.city])
        log_cap = math.log(0.5 + self.skill) + g.success_capability_premium * (
            self.last_outcome == 2
        )
        cap = math.exp(m.random.gauss(log_cap, 0.5))
        own = g.founder_capital * math.exp(g.founder_capital_dispersion * m.random.gauss(0.0, 1.0))
        firm = Firm(m, self, wave, cap, own)
        self.status = FOUNDER
        self.employer = firm
        self.ventures = min(self.ventures + 1, 255)
        m.flows["entries"][self.city] += 1

    def work(self) -> None:
        """Skill grows for the founders leading innovative firms (growth mechanism)."""
        if self.employer is not None:
            self.skill += self.model.g.skill_growth / TICKS_PER_YEAR
            self.tenure += 1


class Firm(mesa.Agent):
    """An innovative firm."""

    def __init__(self, model: InnoModel, founder: Person, wave: int, cap: float, own: float):
        super().__init__(model)
        self.firm_id = model.next_firm_id
        model.next_firm_id += 1
        self.city = founder.city
        self.orientation = -1
        self.wave = wave
        self.born = model.t
        self.founder: Person | None = founder
        self.founder_history = founder.last_outcome
        self.capability = cap
        self.loga = math.log(max(cap, 1e-12))
        self.employment = 1  # headcount of real people, the founder included
        self.target = 1.0
        self.demand = 0.0
        self.revenue = 0.0
        self.revenue_year = 0.0
        self.wages = 0.0
        self.profit = 0.0
        self.cash = own
        self.valuation = 0.0
        self.post_money = 0.0
        self.last_round = -1
        self.raised = 0.0
        self.rounds = 0
        self.retained = 1.0
        self.listed = False
        self.unicorn_ever = False
        self.success = False
        self.died = -1
        self.death_kind = 0
        self.investments: list[Investment] = []
        self.segment = -1
        self.attraction = 0.0
        self.per_head = 0.0
        model.registry.append(self)

    # waves: adaptation (C1, C7) ----------------------------------------------------------
    def adapt(self) -> None:
        m = self.model
        target = m.best_wave[self.city]
        if target < 0 or self.wave == target:
            return
        if m.wave_start[self.wave] >= m.wave_start[target]:
            return
        if m.random.random() < m.adapt_p[self.orientation]:
            self.wave = target
            self.capability *= 1.0 - m.g.adaptation_capability_loss

    # orientation (C6, C7) ----------------------------------------------------------------
    def choose_orientation(self) -> None:
        if self.orientation >= 0:
            return
        m = self.model
        lv, c = m.levers, self.city
        t = m.wave_toc[self.wave]
        w = [
            lv.demand_consumer[c] * t,
            lv.demand_enterprise[c] * (1.0 - t),
            lv.demand_government[c] * lv.procurement_budget[c],
        ]
        self.orientation = _pick(m.random, _cumulative(w)) if sum(w) > 0 else TOB

    # growth (C6, C7, C12) ----------------------------------------------------------------
    def learn(self) -> None:
        """Move log capability toward the wave's frontier (read before anyone learns)."""
        m, g, o = self.model, self.model.g, self.orientation
        lam = (g.learning_rate_toc, g.learning_rate_tob, g.learning_rate_tog)[o]
        sig = (g.capability_noise_toc, g.capability_noise_tob, g.capability_noise_tog)[o]
        loga = math.log(max(self.capability, 1e-12))
        loga += lam / TICKS_PER_YEAR * (m.frontier[self.wave] - loga) + sig * math.sqrt(
            1.0 / TICKS_PER_YEAR
        ) * m.random.gauss(0.0, 1.0)
        self.loga = min(max(loga, -20.0), 20.0)
        self.capability = math.exp(self.loga)

    def attract(self) -> None:
        """Segment and log attraction (normalised by the model before demand is split)."""
        m, g, o = self.model, self.model.g, self.orientation
        if o == TOC:
            self.segment = self.wave
        elif o == TOB:
            self.segment = m.n_waves + self.wave * m.n_cities + self.city
        else:
            self.segment = m.n_waves + m.n_waves * m.n_cities + self.wave * m.n_cities + self.city
        alpha = (g.increasing_returns_toc, g.increasing_returns_tob, g.increasing_returns_tog)[o]
        fit = 1.0 if o == TOG else m.fit[self.city][self.wave]
        self.attraction = (
            g.capability_weight * self.loga
            + alpha * math.log1p(self.employment / g.size_reference)
            + math.log(max(fit, 1e-12))
        )

    def operate(self) -> None:
        """Demand, revenue, wages, cash, valuation and target employment."""
        m, g, o = self.model, self.model.g, self.orientation
        demand = m.segment_demand[self.segment] * self.attraction / m.segment_total[self.segment]
        self.demand = demand
        emp = float(self.employment)
        size = 1.0 + emp / g.size_reference
        per_head = g.labour_productivity * (size**g.toc_scale_economies if o == TOC else 1)
        self.per_head = per_head
        capacity = 1.5 * max(emp, 1.0) * per_head / TICKS_PER_YEAR
        revenue = min(demand, capacity)  # no supplier purchases (chains is off)
        young = (m.t - self.born) < 3 * TICKS_PER_YEAR
        wage_rate = (
            g.innovation_wage
            / TICKS_PER_YEAR
            * (1.0 - (m.levers.subsidy[self.city] if young else 0))
        )
        paid = max(emp - (self.founder is not None), 0.0)
        wages = paid * wage_rate
        fixed = g.fixed_cost / TICKS_PER_YEAR
        profit = revenue - wages - fixed
        self.revenue, self.wages, self.profit = revenue, wages, profit
        self.cash += profit
        prev = self.revenue_year
        growth_rate = revenue / max(prev, 1e-12) - 1.0 if prev > 0 else 0.0
        self.revenue_year = 0.8 * prev + 0.2 * revenue if prev > 0 else revenue
        mult = (g.valuation_multiple_toc, g.valuation_multiple_tob, g.valuation_multiple_tog)[o]
        val = TICKS_PER_YEAR * revenue * (mult + g.growth_premium * min(max(growth_rate, 0.0), 3.0))
        recent = self.last_round >= 0 and m.t - self.last_round < 2 * TICKS_PER_YEAR
        self.valuation = max(val, self.post_money) if recent else val
        need = TICKS_PER_YEAR * demand / per_head
        spare = max(self.cash - 2.0 * (wages + fixed), 0.0)
        need += spare / max(g.innovation_wage * g.runway_years, 1e-9)
        need = min(max(need, 1.0), m.people_total)  # no firm plans beyond the labour force
        self.target = emp + g.hiring_speed * (need - emp)
        excess = math.floor(emp - max(math.ceil(self.target), 1.0))
        if excess > 0:  # layoffs: staff are a headcount
            self.employment -= excess
            m.flows["separations"][self.city] += excess

    # finance (C9) ------------------------------------------------------------------------
    def seek_funding(self) -> None:
        m, g = self.model, self.model.g
        cost = self.wages + g.fixed_cost / TICKS_PER_YEAR
        if self.listed or self.rounds >= g.max_rounds or self.cash >= 2.0 * cost:
            return
        cum = m.fund_cum[self.city]
        if not cum or cum[-1] <= 0:
            return
        fund = m.funds[_pick(m.random, cum)]
        app = fund.appetite
        growth = self.revenue / max(self.revenue_year, 1e-12) - 1.0 if self.revenue_year > 0 else 0
        signal = (
            math.log(max(self.capability, 1e-12))
            + 0.5 * min(max(growth, -1.0), 3.0)
            + g.success_reputation * (self.founder_history == 2)
            + g.signal_noise * m.random.gauss(0.0, 1.0)
        )
        hurdle = (
            g.investment_hurdle
            - g.appetite_hurdle_relief * app
            + g.toc_variance_aversion * (1.0 - app) * (self.orientation == TOC)
        )
        if signal > hurdle:
            fund.pitches.append(self)

    # exits (C8) --------------------------------------------------------------------------
    def check_exit(self) -> None:
        m, g, t = self.model, self.model.g, self.model.t
        if self.valuation >= g.unicorn_valuation and not self.unicorn_ever:
            self.unicorn_ever = True
            if not self.success:
                self.success = True
                self.credit_founder()
        age_years = (t - self.born) / TICKS_PER_YEAR
        if (
            not self.listed
            and self.valuation >= g.listing_valuation
            and age_years >= g.exit_min_age
            and m.random.random() < m.p_list
        ):
            self.listed = True
            if self.valuation > self.raised and not self.success:
                self.success = True
                self.credit_founder()
            self.realise(self.valuation, 0.0)
            m.flows["listings"][self.city] += 1
        bought = (
            not self.listed
            and self.rounds > 0
            and age_years >= 2.0
            and m.random.random() < m.p_acquire
        )
        if bought:
            if self.valuation > self.raised and not self.success:
                self.success = True
                self.credit_founder()
            self.realise(self.valuation, g.liquidation_preference)
        broke = self.cash < 0 and not bought
        hazard = m.random.random() < m.p_hazard
        empty = self.employment <= 0 and self.founder is None
        if broke or hazard or empty or bought:
            self.die(DEATH_ACQUIRED if bought else DEATH_FAILURE if broke else DEATH_CLOSURE)
            m.flows["failures"][self.city] += broke

    def credit_founder(self) -> None:
        if self.founder is not None:
            self.founder.successes = min(self.founder.successes + 1, 255)
            self.founder.last_outcome = 2

    def realise(self, value: float | None, preference: float) -> None:
        """Realise every open investment: ``value`` None = liquidation."""
        open_ = [inv for inv in self.investments if not inv.realised]
        if not open_:
            return
        g = self.model.g
        if value is None:
            proceeds = [inv.amount * g.liquidation_recovery for inv in open_]
        else:
            proceeds = [
                inv.stake * self.retained / max(inv.retained_entry, 1e-12) * value for inv in open_
            ]
            if preference > 0:
                owed_total = sum(inv.amount * preference for inv in open_)
                share = min(1.0, value / max(owed_total, 1e-12))
                proceeds = [
                    max(p, inv.amount * preference * share)
                    for p, inv in zip(proceeds, open_, strict=True)
                ]
                paid = sum(proceeds)
                if paid > value:
                    proceeds = [p * value / paid for p in proceeds]
        for inv, p in zip(open_, proceeds, strict=True):
            inv.proceeds, inv.realised, inv.realised_tick = p, True, self.model.t
            inv.fund.receive(inv, p)

    def die(self, kind: int) -> None:
        m, g = self.model, self.model.g
        self.died, self.death_kind = m.t, kind
        self.realise(None, 0.0)
        m.flows["exits"][self.city] += 1
        founder = self.founder
        led = founder is not None and founder.employer is self
        staff = self.employment - (founder is not None)  # a headcount: back to the labour market
        if staff > 0:
            m.flows["separations"][self.city] += staff
        if led:
            founder.skill += g.failure_learning
            if not self.success:
                founder.failures = min(founder.failures + 1, 255)
                founder.last_outcome = 1
            founder.employer, founder.status = None, WORKER
            m.flows["separations"][founder.city] += 1
        self.employment = 0
        self.remove()


class Investment:
    """One row of the venture ledger."""

    __slots__ = (
        "amount",
        "firm",
        "fund",
        "proceeds",
        "realised",
        "realised_tick",
        "retained_entry",
        "round",
        "stake",
        "tick",
    )

    def __init__(self, fund, firm, tick, rnd, amount, stake, retained_entry):
        self.fund, self.firm, self.tick, self.round = fund, firm, tick, rnd
        self.amount, self.stake, self.retained_entry = amount, stake, retained_entry
        self.proceeds, self.realised, self.realised_tick = 0.0, False, -1


class Fund(mesa.Agent):
    """A venture fund of a city."""

    def __init__(self, model: InnoModel, city: int, capital: float, appetite: float) -> None:
        super().__init__(model)
        self.city = city
        self.base_capital = capital
        self.capital = capital
        self.committed = 0.0
        self.invested = 0.0
        self.returned = 0.0
        self.appetite = appetite
        self.deals = 0
        self.track_proceeds = 0.0
        self.track_invested = 0.0
        self.realised_now: list[tuple[float, float]] = []  # (proceeds, amount) since last tick
        self.pitches: list[Firm] = []

    def receive(self, inv: Investment, proceeds: float) -> None:
        self.capital += proceeds
        self.returned += proceeds
        self.model.flows["vc_returned"][self.city] += proceeds
        self.realised_now.append((proceeds, inv.amount))

    def update_track_record(self) -> None:
        """The track record: realised proceeds and amounts, discounted."""
        g = self.model.g
        keep = 0.5 ** (1.0 / (TICKS_PER_YEAR * g.track_record_years))
        self.track_proceeds *= keep
        self.track_invested *= keep
        for p, a in self.realised_now:
            self.track_proceeds += p
            self.track_invested += a

    def log_multiple(self) -> float | None:
        if self.track_invested > 0:
            return math.log(max(self.track_proceeds, 1e-12) / self.track_invested)
        return None

    def update_appetite(self, median: float) -> None:
        """Appetite feedback: the fund's multiple against the median fund's."""
        g = self.model.g
        own = self.log_multiple()
        if own is not None:
            logm = min(max(own - median, -3.0), 3.0)
            self.appetite = min(
                max(self.appetite + g.appetite_learning_rate * g.appetite_sensitivity * logm, 0),
                1.0,
            )

    def revert_and_raise(self) -> None:
        m, g = self.model, self.model.g
        base = m.levers.risk_appetite[self.city]
        self.appetite = min(
            max(
                self.appetite + (base - self.appetite) * g.appetite_reversion / TICKS_PER_YEAR, 0.0
            ),
            1.0,
        )
        rel = max(m.fund_performance[self.city], 0.0) / m.nation_performance
        perf = rel**g.lp_performance_elasticity if m.nation_performance > 0 else 1.0
        inflow = self.base_capital * g.lp_inflow_rate / TICKS_PER_YEAR * min(perf, 10.0)
        self.capital += inflow
        self.committed += inflow
        m.flows["lp_inflow"][self.city] += inflow

    def invest(self) -> None:
        """Take the accepted pitches in random order while the dry powder lasts."""
        if not self.pitches:
            return
        m, g = self.model, self.model.g
        d = g.round_dilution
        m.random.shuffle(self.pitches)
        budget, spent = self.capital, 0.0
        for firm in self.pitches:
            size = g.seed_round * g.round_step**firm.rounds
            pre = max(firm.valuation, g.seed_round * (1.0 - d) / d)
            amount = min(size, pre * d / (1.0 - d))
            spent += amount
            if spent > budget:
                break  # as innosim: the cumulative sum of the fund's deals in random order
            post = pre + amount
            stake = amount / post
            firm.cash += amount
            firm.raised += amount
            firm.rounds += 1
            firm.post_money = post
            firm.valuation = max(firm.valuation, post)
            firm.last_round = m.t
            firm.retained *= 1.0 - stake
            self.capital -= amount
            self.invested += amount
            self.deals += 1
            m.flows["vc_invested"][firm.city] += amount
            inv = Investment(self, firm, m.t, firm.rounds - 1, amount, stake, firm.retained)
            firm.investments.append(inv)
            m.ledger.append(inv)
        self.pitches = []


# -- model --------------------------------------------------------------------------------
FLOWS = Flows.names  # the per-city flows of innosim's engine, by the same names


class InnoModel(mesa.Model):
    """innosim's core (``CORE_MECHANISMS``) as a Mesa model; one ``step`` = one quarter."""

    def __init__(self, scenario: Scenario, seed: int = 1) -> None:
        super().__init__(seed=seed)
        params = compile_params(scenario, DISABLED)
        self.params = params
        g, c = params.g, params.c
        self.g = g
        self.levers = SimpleNamespace(
            **{k: [float(x) for x in v] for k, v in vars(lever_defaults(params)).items()}
        )
        self.n_cities, self.n_waves = params.n_cities, params.n_waves
        self.wave_start = [int(x) for x in params.wave_start]
        self.wave_toc = [float(x) for x in params.wave_toc]
        self.t = 0
        self.next_firm_id = 0
        self.registry: list[Firm] = []  # every firm that ever lived
        self.ledger: list[Investment] = []
        # city state (place is off: fit stays 1)
        self.fit = [[1.0] * self.n_waves for _ in range(self.n_cities)]
        self.productivity = list(
            c.productivity
            * np.exp(-g.productivity_growth * (params.reference_year - params.start_year))
        )
        self.fund_performance = [1.0] * self.n_cities
        self.market = [0.0] * self.n_waves
        self.market_growth = [0.0] * self.n_waves
        self.market_lagged = [0.0] * self.n_waves
        self.adapt_p = [
            per_tick(g.adaptation_rate_toc),
            per_tick(g.adaptation_rate_tob),
            per_tick(g.adaptation_rate_tog),
        ]
        self.p_list = per_tick(g.exit_rate)
        self.p_acquire = per_tick(g.acquisition_rate)
        self.p_hazard = per_tick(g.base_hazard)
        self.reach = np.exp(-params.dist_km / g.fund_reach_km).tolist()

        # people: real people per city, in rows of about persons_per_agent people each
        people0 = np.maximum(np.round(c.population * g.initial_population_share), 1).astype(int)
        self.pool0 = [int(x) for x in people0]
        for city, weights in enumerate(weighted_rows(self.pool0, params.persons_per_agent)):
            for w in weights:
                grad = self.random.random() < GRADUATE_SHARE_AT_START
                skill = (g.graduate_skill if grad else g.nongraduate_skill) * math.exp(
                    self.random.gauss(0.0, 0.3)
                )
                Person(self, city, skill, weight=w)
        self.pool = [float(x) for x in self.pool0]  # real people per city (weights summed)
        # funds
        k = int(g.funds_per_city)
        self.funds: list[Fund] = []
        for city in range(self.n_cities):
            cap = float(c.vc_capital_per_person[city] * self.pool0[city] / k)
            for _ in range(k):
                self.funds.append(Fund(self, city, cap, float(c.risk_appetite[city])))
        self.flows = {k: [0.0] * self.n_cities for k in FLOWS}
        self.records: list[dict[str, float]] = []

    # -- helpers ---------------------------------------------------------------------------
    @property
    def people(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[Person]

    @property
    def n_people(self) -> int:
        """Person rows (agents), founders split off included."""
        return len(self.people)

    @property
    def people_total(self) -> float:
        """Real people in the system (the cities' pools: the rows' weights summed)."""
        return float(sum(self.pool))

    @property
    def firms(self) -> mesa.agent.AgentSet:
        return self.agents_by_type.get(Firm, mesa.agent.AgentSet([], random=self.random))

    def _demand(self, t: int, people: float) -> list[float]:
        g, p = self.g, self.params
        out = []
        for w in range(self.n_waves):
            age = (t - self.wave_start[w]) / TICKS_PER_YEAR
            if age < 0:
                out.append(0.0)
                continue
            gr = float(p.wave_growth[w])
            s = 1.0 / (1.0 + math.exp(-gr * (age - 4.0 / gr)))
            decline = math.exp(-g.wave_decline_rate * max(0.0, age - g.wave_life_years))
            out.append(
                float(p.wave_weight[w])
                * g.market_per_person
                * people
                / TICKS_PER_YEAR
                * s
                * decline
            )
        return out

    # -- mechanisms, in innosim's order ----------------------------------------------------
    def waves(self) -> None:
        people = self.people_total  # real people at the start of the tick
        now, year_ago = self._demand(self.t, people), self._demand(self.t - TICKS_PER_YEAR, people)
        self.market = now
        self.market_growth = [max(a - b, 0.0) for a, b in zip(now, year_ago, strict=True)]
        # what enterprise and government clients buy: the waves procurement_lag_years ago (C6)
        lag = self.t - TICKS_PER_YEAR * self.g.procurement_lag_years
        self.market_lagged = self._demand(lag, people)
        firms = self.firms
        if len(firms) == 0:
            return
        g = self.g
        open_w = [
            0 <= (self.t - s) / TICKS_PER_YEAR <= g.adaptation_window_years for s in self.wave_start
        ]
        if not any(open_w):
            return
        self.best_wave = []
        for city in range(self.n_cities):
            scores = [
                self.fit[city][w] * self.market_growth[w] if open_w[w] else -1.0
                for w in range(self.n_waves)
            ]
            best = max(range(self.n_waves), key=scores.__getitem__)
            self.best_wave.append(best if scores[best] > 0 else -1)
        firms.do("adapt")

    def founding(self) -> None:
        g = self.g
        total = sum(self.market_growth)
        if total <= 0:
            share = [1.0 if m > 0 else 0.0 for m in self.market]
            s = max(sum(share), 1.0)
            share = [x / s for x in share]
        else:
            share = [x / total for x in self.market_growth]
        self.p_perceive, self.p_serial, self.wave_cum = [], [], []
        for city in range(self.n_cities):
            w = [self.fit[city][i] * share[i] for i in range(self.n_waves)]
            o = sum(w)
            pull = max(o, 0.0) ** g.opportunity_market_elasticity
            self.p_perceive.append(-math.expm1(-(g.opportunity_rate / 4) * pull))
            self.p_serial.append(-math.expm1(-(g.serial_opportunity_rate / 4) * pull))
            self.wave_cum.append(_cumulative(w))
        if not any(c[-1] > 0 for c in self.wave_cum):
            return
        self.people.do("consider_founding")

    def orientation(self) -> None:
        self.firms.do("choose_orientation")

    def growth(self) -> None:
        self.people.do("work")
        firms = self.firms
        if len(firms) == 0:
            return
        frontier = [-math.inf] * self.n_waves
        for f in firms:
            la = math.log(max(f.capability, 1e-12))
            if la > frontier[f.wave]:
                frontier[f.wave] = la
        self.frontier = frontier
        firms.do("learn")
        firms.do("attract")
        top = max(f.attraction for f in firms)
        n_seg = self.n_waves + 2 * self.n_waves * self.n_cities
        total = [0.0] * n_seg
        for f in firms:
            f.attraction = math.exp(f.attraction - top)
            total[f.segment] += f.attraction
        self.segment_total = [max(x, 1e-300) for x in total]
        pool_total = max(sum(self.pool), 1.0)
        seg = [self.market[w] * self.wave_toc[w] for w in range(self.n_waves)]
        enterprise = [self.market_lagged[w] * (1.0 - self.wave_toc[w]) for w in range(self.n_waves)]
        for w in range(self.n_waves):
            for c in range(self.n_cities):
                seg.append(enterprise[w] * self.pool[c] / pool_total)
        lagged = sum(enterprise)
        for w in range(self.n_waves):  # each city's budget, spread by the lagged waves
            share = enterprise[w] / lagged if lagged > 0 else 0.0
            for c in range(self.n_cities):
                budget = self.levers.procurement_budget[c] * self.pool[c] / TICKS_PER_YEAR
                seg.append(budget * share)
        self.segment_demand = seg
        firms.do("operate")

    def finance(self) -> None:
        for fund in self.funds:
            fund.update_track_record()
        logs = [x for x in (fund.log_multiple() for fund in self.funds) if x is not None]
        if logs:
            median = statistics.median(logs)
            for fund in self.funds:
                fund.update_appetite(median)
        got = [0.0] * self.n_cities
        paid = [0.0] * self.n_cities
        for fund in self.funds:
            for p, a in fund.realised_now:
                got[fund.city] += p
                paid[fund.city] += a
            fund.realised_now = []
        for c in range(self.n_cities):
            if paid[c] > 0:
                mult = min(got[c] / max(paid[c], 1e-12), 20.0)
                self.fund_performance[c] = 0.9 * self.fund_performance[c] + 0.1 * mult
        weight = [0.0] * self.n_cities
        for fund in self.funds:
            weight[fund.city] += fund.base_capital
        den = sum(weight)
        self.nation_performance = (
            sum(w * p for w, p in zip(weight, self.fund_performance, strict=True)) / den
            if den > 0
            else 1.0
        )
        for fund in self.funds:
            fund.revert_and_raise()
        if len(self.firms) == 0:
            return
        self.fund_cum = [
            _cumulative(self.reach[c][f.city] * max(f.capital, 0.0) for f in self.funds)
            for c in range(self.n_cities)
        ]
        self.firms.do("seek_funding")
        for fund in self.funds:
            fund.invest()

    def exits(self) -> None:
        self.firms.shuffle_do("check_exit")

    def accounting(self) -> None:
        g, n_c = self.g, self.n_cities
        pool = [0.0] * n_c
        rows = [0] * n_c
        for person in self.people:
            pool[person.city] += person.weight
            rows[person.city] += 1
        self.pool = pool
        innov = [0.0] * n_c  # staff work at headquarters (no branches: chains is off)
        wages_here = [0.0] * n_c
        surplus = [0.0] * n_c
        firms = self.firms
        for f in firms:
            innov[f.city] += f.employment
            wages_here[f.city] += f.wages
            surplus[f.city] += f.revenue - f.wages
        va, share = [], []
        for c in range(n_c):
            bg = (pool[c] - innov[c]) * self.productivity[c] / TICKS_PER_YEAR
            v = bg + wages_here[c] + surplus[c]
            va.append(v)
            share.append(min(max((wages_here[c] + surplus[c]) / (v if v > 0 else 1.0), 0.0), 1.0))
        safe = [max(p, 1.0) for p in pool]
        mean_share = sum(s * w for s, w in zip(share, safe, strict=True)) / sum(safe)
        for c in range(n_c):
            self.productivity[c] *= math.exp(
                (g.productivity_growth + g.spillover_elasticity * (share[c] - mean_share))
                / TICKS_PER_YEAR
            )
        self.records.append(
            {
                "tick": self.t,
                "agents": sum(rows),
                "population": sum(pool),
                "employment": sum(innov),
                "entries": sum(self.flows["entries"]),
                "exits": sum(self.flows["exits"]),
                "failures": sum(self.flows["failures"]),
                "listings": sum(self.flows["listings"]),
                "firms": len(firms),
                "unicorns": sum(1 for f in firms if f.valuation >= g.unicorn_valuation),
                "vc_invested": sum(self.flows["vc_invested"]),
                "vc_returned": sum(self.flows["vc_returned"]),
                "value_added": sum(va),
            }
        )

    def step(self) -> None:
        """One quarter: reset the flows, then the core mechanisms in innosim's order."""
        for v in self.flows.values():
            v[:] = [0.0] * self.n_cities
        self.waves()
        self.founding()
        self.orientation()
        self.growth()
        self.finance()
        self.exits()
        self.accounting()
        self.t += 1

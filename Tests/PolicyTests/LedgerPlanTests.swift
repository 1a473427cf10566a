import Foundation
import Testing
@testable import Policy

/// Plan periods, lazy renewal, rollover caps and plan changes.
@Suite struct LedgerPlanTests {
    static func ms(_ date: Date) -> Int64 { date.ledgerMilliseconds }

    @Test(arguments: [
        // anchor, months, expected
        (utc(2026, 1, 31), 1, utc(2026, 2, 28)),
        (utc(2026, 1, 31), 2, utc(2026, 3, 31)),
        (utc(2026, 1, 31), 3, utc(2026, 4, 30)),
        (utc(2028, 1, 31), 1, utc(2028, 2, 29)),   // leap year
        (utc(2024, 2, 29), 12, utc(2025, 2, 28)),  // leap day anchor, non-leap year
        (utc(2024, 2, 29), 48, utc(2028, 2, 29)),
        (utc(2100, 1, 30), 1, utc(2100, 2, 28)),   // 2100 is not a leap year
        (utc(2000, 1, 30), 1, utc(2000, 2, 29)),   // 2000 is
        (utc(2026, 12, 15, 23, 59), 1, utc(2027, 1, 15, 23, 59)),
        (utc(1969, 12, 31), 2, utc(1970, 2, 28)),  // before the epoch
    ])
    func monthsKeepTheAnchorDay(anchor: Date, months: Int, expected: Date) {
        #expect(PlanCalendar.adding(months: Int64(months), to: Self.ms(anchor)) == Self.ms(expected))
    }

    @Test func periodIndexFindsTheCurrentPeriod() {
        let anchor = Self.ms(utc(2026, 1, 31))
        #expect(PlanCalendar.periodIndex(containing: Self.ms(utc(2026, 2, 27)), anchorMs: anchor, atLeast: 0) == 0)
        #expect(PlanCalendar.periodIndex(containing: Self.ms(utc(2026, 2, 28)), anchorMs: anchor, atLeast: 0) == 1)
        #expect(PlanCalendar.periodIndex(containing: Self.ms(utc(2026, 3, 30)), anchorMs: anchor, atLeast: 0) == 1)
        #expect(PlanCalendar.periodIndex(containing: Self.ms(utc(2026, 3, 31)), anchorMs: anchor, atLeast: 0) == 2)
        #expect(PlanCalendar.periodIndex(containing: Self.ms(utc(2031, 1, 31)), anchorMs: anchor, atLeast: 3) == 60)
        #expect(PlanCalendar.dayString(Self.ms(utc(2028, 2, 29))) == "2028-02-29")
    }

    @Test func freePlanRenewsLazilyOnTheAnchorDay() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(utc(2028, 1, 31, 9))
        let ledger = try openLedger(directory, clock: clock.ledgerClock)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "free@example.com", hasher: cheapHasher)
        let hold = try ledger.hold(userId: user.id, amount: 150, requestId: "")
        _ = try ledger.charge(holdId: hold.holdId, operation: "x", amount: 120)  // balance 80

        clock.set(utc(2028, 2, 29, 8, 59))  // a minute before the (leap-day) renewal: nothing yet
        _ = try ledger.grant(userId: user.id, amount: 1, reason: "probe", actor: "test")
        #expect(try ledger.balance(userId: user.id)?.balance == 81)

        clock.set(utc(2028, 2, 29, 9))
        let renewed = try ledger.hold(userId: user.id, amount: 10, requestId: "after")  // decided on the renewed balance
        #expect(renewed.balance == 200)
        _ = try ledger.charge(holdId: renewed.holdId, operation: "x", amount: 10)  // the first durable write records the renewal
        let history = try ledger.history(userId: user.id, limit: 3)
        #expect(history.map(\.kind) == [.charge, .expiry, .renewal])
        #expect(history[0].balanceAfter == 190)
        let renewal = Array(history.dropFirst())
        #expect(renewal[1].delta == 200 && renewal[0].delta == -81 && renewal[0].balanceAfter == 200)
        let balance = try #require(try ledger.balance(userId: user.id))
        #expect(balance.periodStart == utc(2028, 2, 29, 9) && balance.periodEnd == utc(2028, 3, 31, 9))
        #expect(try ledger.verify().isConsistent)
    }

    @Test func rolloverKeepsUnusedTokensUpToTheCap() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(utc(2026, 1, 31))
        let ledger = try openLedger(directory, clock: clock.ledgerClock)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "pro@example.com", plan: "professional", hasher: cheapHasher)
        let spend = try ledger.hold(userId: user.id, amount: 4_000, requestId: "")
        _ = try ledger.charge(holdId: spend.holdId, operation: "x")  // 6000 left

        clock.set(utc(2026, 2, 28))
        _ = try ledger.renewAll()
        #expect(try ledger.balance(userId: user.id)?.balance == 16_000)  // 6000 kept + 10000

        clock.set(utc(2026, 3, 31))
        let open = try ledger.hold(userId: user.id, amount: 100, requestId: "")  // decided on the renewed balance: capped at 20000
        #expect(open.balance == 20_000)
        // A hold is volatile: the renewal it saw is recorded by the next durable write.
        #expect(try ledger.history(userId: user.id, limit: 1).first?.kind == .renewal && ledger.history(userId: user.id, limit: 1).first?.balanceAfter == 16_000)
        #expect(try ledger.renewAll() == RenewalSummary(examined: 1, renewed: 1))
        let latest = try ledger.history(userId: user.id, limit: 2)
        #expect(latest.map(\.kind) == [.expiry, .renewal] && latest[0].delta == -6_000)

        clock.set(utc(2026, 7, 1))  // three periods missed at once: still capped, one renewal entry
        let summary = try ledger.renewAll()
        #expect(summary == RenewalSummary(examined: 1, renewed: 1))
        #expect(try ledger.balance(userId: user.id)?.balance == 20_000)
        #expect(try ledger.balance(userId: user.id)?.periodStart == utc(2026, 6, 30))
        #expect(try ledger.renewAll() == RenewalSummary(examined: 1, renewed: 0))
        _ = try ledger.release(holdId: open.holdId)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func renewalNeverDropsBelowWhatIsHeld() {
        let free = testPlans.plan(named: "free")!
        let outcome = PlanRenewal.allocate(plan: free, periods: 1, balance: 500, held: 450)
        #expect(outcome.finalBalance == 450 && outcome.added == 200 && outcome.expired == -250)
        let pro = testPlans.plan(named: "professional")!
        let capped = PlanRenewal.allocate(plan: pro, periods: 1_000_000_000_000, balance: 10, held: 0)
        #expect(capped.finalBalance == 20_000 && capped.added + capped.expired == 19_990)
    }

    @Test func planChangeStartsANewPeriodWithTheNewAllocation() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(utc(2026, 5, 10))
        let ledger = try openLedger(directory, clock: clock.ledgerClock)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "up@example.com", hasher: cheapHasher)
        clock.set(utc(2026, 5, 20))
        let upgraded = try ledger.changePlan(userId: user.id, to: "professional", actor: "admin:test")
        #expect(upgraded.plan == "professional" && upgraded.balance == 10_200)  // rollover plan keeps the 200
        #expect(upgraded.periodStart == utc(2026, 5, 20) && upgraded.periodEnd == utc(2026, 6, 20))
        #expect(try ledger.user(id: user.id)?.plan == "professional")
        #expect(try ledger.history(userId: user.id, limit: 1).first?.actor == "admin:test")

        let downgraded = try ledger.changePlan(userId: user.id, to: "basic", actor: "admin:test")
        #expect(downgraded.balance == 2_000)  // basic has no rollover
        let unknown = #expect(throws: LedgerError.self) { try ledger.changePlan(userId: user.id, to: "gold", actor: "x") }
        #expect(unknown?.code == .unknownPlan)
        let reader = try ledger.makeReader()
        _ = try ledger.createAPIKey(userId: user.id, name: "k")
        #expect(try reader.balance(userId: user.id, now: clock.now)?.plan == "basic")
        #expect(try ledger.verify().isConsistent)
    }

    @Test func usageSumsChargesPerDayAndOperation() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(utc(2026, 4, 1, 10))
        let ledger = try openLedger(directory, clock: clock.ledgerClock)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "u@example.com", plan: "basic", hasher: cheapHasher)
        func spend(_ amount: Int64, _ operation: String) throws {
            let hold = try ledger.hold(userId: user.id, amount: amount, requestId: "")
            _ = try ledger.charge(holdId: hold.holdId, operation: operation)
        }
        try spend(4, "raster_generation")
        try spend(4, "raster_generation")
        try spend(80, "generative_upscale")
        clock.set(utc(2026, 4, 2, 23, 59))
        try spend(8, "vector_generation")
        clock.set(utc(2026, 4, 3, 1))
        try spend(8, "vector_generation")
        let rows = try ledger.usage(userId: user.id, from: utc(2026, 4, 1, 0), to: utc(2026, 4, 3, 0))
        #expect(rows == [
            UsageRow(day: "2026-04-01", operation: "generative_upscale", count: 1, tokens: 80),
            UsageRow(day: "2026-04-01", operation: "raster_generation", count: 2, tokens: 8),
            UsageRow(day: "2026-04-02", operation: "vector_generation", count: 1, tokens: 8),
        ])
    }
}

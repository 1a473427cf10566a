import Foundation
import Policy
import Portal
import Testing

/// The dashboard's server-drawn usage chart, from charges made on chosen days in a real ledger.
@Suite("Usage chart: 30 UTC days, stacked per operation, proportional bars, table fallback")
struct UsageChartTests {
    /// One `<rect>` of the chart.
    struct Bar {
        let operation: String
        let tokens: Int64
        let seriesClass: String
        let y: Double
        let height: Double
    }

    let site: PortalSite
    let fixture: LedgerFixture
    let html: String
    let now = utc(2026, 11, 20, 15)

    init() throws {
        let policy = try loadPolicy()
        site = try PortalSite(policy: policy)
        fixture = try LedgerFixture(policy: policy, start: utc(2026, 10, 1))
        let user = try fixture.ledger.createUser(email: "chart@example.com", plan: "professional")
        try fixture.charge(user.id, "raster_generation", tokens: 400, at: utc(2026, 10, 21, 23, 59))  // a day too early
        try fixture.charge(user.id, "style_creation", tokens: 4, at: utc(2026, 10, 22, 0, 0))           // the first day shown
        try fixture.charge(user.id, "generative_upscale", tokens: 80, at: utc(2026, 11, 1, 9))
        try fixture.charge(user.id, "raster_generation", tokens: 60, at: utc(2026, 11, 18, 8))
        try fixture.charge(user.id, "raster_generation", tokens: 40, at: utc(2026, 11, 18, 20))
        try fixture.charge(user.id, "raster_generation", tokens: 40, at: utc(2026, 11, 20, 10))
        try fixture.charge(user.id, "vectorization", tokens: 20, at: utc(2026, 11, 20, 11))
        fixture.clock.set(now)
        let page = DashboardPage(
            viewer: Viewer(account: user), balance: try #require(try fixture.ledger.balance(userId: user.id)),
            history: try fixture.ledger.history(userId: user.id, limit: 10),
            usage: try fixture.ledger.usage(userId: user.id, from: utc(2026, 10, 1), to: now), now: now)
        html = site.render(.dashboard(page)).html
    }

    /// The bars of each day, keyed by `YYYY-MM-DD`, bottom segment first.
    func barsByDay(_ html: String) throws -> [(day: String, bars: [Bar])] {
        try html.matches(of: "<g class=\"chart-day\" data-day=\"([0-9-]+)\">(.*?)</g>").map { group in
            let bars = try group[2].matches(of: "<rect class=\"chart-bar (series-[0-9]+)\" x=\"[0-9.]+\" y=\"([0-9.]+)\" width=\"[0-9.]+\" height=\"([0-9.]+)\" data-operation=\"([a-z_]+)\" data-tokens=\"([0-9]+)\">")
                .map { Bar(operation: $0[4], tokens: Int64($0[5]) ?? -1, seriesClass: $0[1], y: Double($0[2]) ?? -1, height: Double($0[3]) ?? -1) }
            return (group[1], bars)
        }
    }

    @Test("30 day columns ending today (UTC); usage outside the window is left out; empty days have no bars")
    func window() throws {
        let days = try barsByDay(html)
        #expect(days.count == 30)
        #expect(days.first?.day == "2026-10-22")
        #expect(days.last?.day == "2026-11-20")
        #expect(!html.contains("data-day=\"2026-10-21\""))
        let withBars = days.filter { !$0.bars.isEmpty }.map(\.day)
        #expect(withBars == ["2026-10-22", "2026-11-01", "2026-11-18", "2026-11-20"])
        #expect(days.first { $0.day == "2026-11-19" }?.bars.isEmpty == true)
    }

    @Test("Bar heights are proportional to tokens; a day's segments stack from the axis up without gaps")
    func proportionalStackedBars() throws {
        let days = try barsByDay(html)
        let bars = days.flatMap(\.bars)
        #expect(bars.map(\.tokens).sorted() == [4, 20, 40, 80, 100])
        // The busiest day (100 tokens) sets the scale: 0…100 in steps of 25, over the plot's 200 units.
        let unitsPerToken = 200.0 / 100
        for bar in bars {
            #expect(abs(bar.height - Double(bar.tokens) * unitsPerToken) < 0.01, "\(bar.operation) \(bar.tokens)")
        }
        for (day, stack) in days where !stack.isEmpty {
            var top = 228.0  // the x axis
            for bar in stack {
                #expect(abs(bar.y + bar.height - top) < 0.02, "\(day): \(bar.operation) does not sit on the one below")
                top = bar.y
            }
        }
        let today = try #require(days.last?.bars)
        #expect(today.map(\.operation) == ["raster_generation", "vectorization"])
        #expect(today.map(\.tokens) == [40, 20])
        for label in ["0", "25", "50", "75", "100"] {
            #expect(html.contains("text-anchor=\"end\">\(label)</text>"), "tick \(label)")
        }
    }

    @Test("Each operation has one colour class, the same in bars and legend, fixed by the policy's operation list")
    func stableColours() throws {
        let bars = try barsByDay(html).flatMap(\.bars)
        var colour: [String: String] = [:]
        for bar in bars {
            #expect(colour[bar.operation, default: bar.seriesClass] == bar.seriesClass)
            colour[bar.operation] = bar.seriesClass
        }
        #expect(Set(colour.values).count == colour.count)
        for (operation, seriesClass) in colour {
            let label = operation.prefix(1).uppercased() + operation.dropFirst().replacingOccurrences(of: "_", with: " ")
            #expect(html.contains("<span class=\"legend-swatch \(seriesClass)\" aria-hidden=\"true\"></span>\(label)"))
        }
        // Another user with only vectorization usage: vectorization keeps its colour.
        let other = try fixture.ledger.createUser(email: "other@example.com")
        try fixture.charge(other.id, "vectorization", tokens: 4, at: utc(2026, 11, 19))
        fixture.clock.set(now)
        let page = DashboardPage(viewer: Viewer(account: other), balance: try #require(try fixture.ledger.balance(userId: other.id)),
                                 history: [], usage: try fixture.ledger.usage(userId: other.id, from: utc(2026, 10, 1), to: now), now: now)
        let otherBars = try barsByDay(site.render(.dashboard(page)).html).flatMap(\.bars)
        #expect(otherBars.map(\.seriesClass) == [colour["vectorization"]])
    }

    @Test("Accessible: titled SVG with a description, a legend, and a table with the same numbers")
    func accessibleFallback() throws {
        #expect(html.contains("role=\"img\" aria-label=\"Tokens used per day, last 30 days (UTC)\" aria-describedby=\"usage-chart-desc\""))
        #expect(html.contains("<title>Tokens used per day, last 30 days (UTC)</title>"))
        #expect(html.contains("<desc id=\"usage-chart-desc\">244 tokens from 2026-10-22 to 2026-11-20, stacked by operation. Busiest day: 2026-11-18 with 100 tokens.</desc>"))
        #expect(html.contains(">Nov 20</text>"))
        #expect(html.contains("y=\"248\" text-anchor=\"end\">Nov 20</text>"), "the last label stays inside the chart")

        let table = try #require(try html.matches(of: "<table class=\"visually-hidden\" data-usage-table>(.*?)</table>").first?[1])
        let header = try table.matches(of: "<th scope=\"col\">([^<]+)</th>").map { $0[1] }
        #expect(header == ["Day", "Generative upscale", "Raster generation", "Style creation", "Vectorization", "Total"])
        let rows = try table.matches(of: "<tr><th scope=\"row\">([0-9-]+)</th>(.*?)</tr>").map { row in
            (row[1], try row[2].matches(of: "<td>([^<]+)</td>").map { $0[1] })
        }
        #expect(rows.map(\.0) == ["2026-10-22", "2026-11-01", "2026-11-18", "2026-11-20"])
        #expect(rows.map(\.1) == [["0", "0", "4", "0", "4"], ["80", "0", "0", "0", "80"],
                                  ["0", "100", "0", "0", "100"], ["0", "40", "0", "20", "60"]])
        // The bars carry the same numbers as the table.
        let barTotal = try barsByDay(html).flatMap(\.bars).reduce(0) { $0 + $1.tokens }
        #expect(barTotal == 244)
    }

    @Test("No usage: zero-height days, an axis, a message instead of the legend and no table")
    func empty() throws {
        let user = try fixture.ledger.createUser(email: "idle@example.com")
        let page = DashboardPage(viewer: Viewer(account: user), balance: try #require(try fixture.ledger.balance(userId: user.id)),
                                 history: [], usage: [], now: now)
        let html = site.render(.dashboard(page)).html
        let days = try barsByDay(html)
        #expect(days.count == 30 && days.allSatisfy(\.bars.isEmpty))
        #expect(html.contains("No tokens used in the last 30 days."))
        #expect(!html.contains("data-usage-table"))
        #expect(html.contains("<desc id=\"usage-chart-desc\">No tokens used from 2026-10-22 to 2026-11-20.</desc>"))
    }
}

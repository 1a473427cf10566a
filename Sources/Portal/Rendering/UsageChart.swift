import Policy

/// The dashboard's usage chart laid out on the server: one stacked bar per UTC day (tokens per
/// operation), in SVG user units, plus the legend and the screen-reader table with the same numbers.
/// Stored properties only: the chart partial reads them by name.
struct UsageChart {
    /// One operation's share of one day's bar.
    struct Segment {
        let x: String
        let y: String
        let width: String
        let height: String
        let seriesClass: String
        let operation: String
        let tokens: Int64
        let tooltip: String
    }

    /// One day: its bar segments (bottom first) and, on some days, an axis label.
    struct DayColumn {
        let day: String
        let segments: [Segment]
        let axisLabel: String?
        let labelX: String
        /// `middle` under the bar; `end` for the last day, so its label stays inside the chart.
        let labelAnchor: String
    }

    /// A horizontal grid line with its token value.
    struct Tick {
        let y: String
        let label: String
    }

    /// An operation that has usage in the chart's window: its legend entry and table column.
    struct Series {
        let operation: String
        let label: String
        let seriesClass: String
        let total: String
    }

    /// A row of the fallback table: one day with usage, tokens per series in legend order.
    struct TableRow {
        let day: String
        let cells: [String]
        let total: String
    }

    let title: String
    let summary: String
    let days: [DayColumn]
    let ticks: [Tick]
    let legend: [Series]
    let tableRows: [TableRow]
    let hasUsage: Bool

    // The SVG's coordinate system; the partial hard-codes the viewBox (720 × 256), the axis at y 228
    // and the day labels' baseline (248).
    static let plotLeft = 56.0, plotRight = 712.0, plotTop = 28.0, plotBottom = 228.0
    /// Share of a day's slot the bar covers; the rest is the gap between bars.
    static let barFill = 0.7
    static let paletteSize = 10

    /// Lays out `usage` over the `dayCount` UTC days that end with the day containing `today`.
    ///
    /// - Parameters:
    ///   - knownOperations: The policy's operations; their sorted order decides each one's colour, so
    ///     an operation keeps its colour on every dashboard. Operations unknown to the policy follow.
    init(usage: [UsageRow], today: UTCDay, dayCount: Int, knownOperations: [String]) {
        let window = (0..<dayCount).map { today.adding(days: Int64($0 - dayCount + 1)) }
        let dayIndex = Dictionary(uniqueKeysWithValues: window.enumerated().map { ($1.isoString, $0) })

        var tokens: [[String: Int64]] = Array(repeating: [:], count: dayCount)
        var counts: [[String: Int]] = Array(repeating: [:], count: dayCount)
        for row in usage where row.tokens > 0 {
            guard let index = dayIndex[row.day] else { continue }
            tokens[index][row.operation, default: 0] += row.tokens
            counts[index][row.operation, default: 0] += row.count
        }

        let known = knownOperations.sorted()
        let used = Set(tokens.flatMap(\.keys))
        let order = known + used.subtracting(known).sorted()
        let colourIndex = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0 % Self.paletteSize) })
        let series = order.filter(used.contains)

        let dayTotals = tokens.map { $0.values.reduce(0, +) }
        let step = Self.tickStep(forMaximum: dayTotals.max() ?? 0)
        let scaleMax = Double(step * 4)
        let plotHeight = Self.plotBottom - Self.plotTop
        let slot = (Self.plotRight - Self.plotLeft) / Double(dayCount)
        let barWidth = slot * Self.barFill

        days = window.enumerated().map { index, day in
            let barX = Self.plotLeft + Double(index) * slot + (slot - barWidth) / 2
            var stackTop = Self.plotBottom
            let segments: [Segment] = series.compactMap { operation in
                guard let value = tokens[index][operation] else { return nil }
                let height = Double(value) / scaleMax * plotHeight
                stackTop -= height
                let requests = counts[index][operation] ?? 0
                return Segment(
                    x: Self.svgNumber(barX), y: Self.svgNumber(stackTop), width: Self.svgNumber(barWidth),
                    height: Self.svgNumber(height), seriesClass: "series-\(colourIndex[operation] ?? 0)",
                    operation: operation, tokens: value,
                    tooltip: "\(day.shortLabel): \(PortalFormat.operationLabel(operation)), \(PortalFormat.tokens(value)) tokens"
                        + " (\(requests) \(requests == 1 ? "request" : "requests"))")
            }
            // Weekly labels, counted back from today so the last bar is always labelled.
            let labelled = (dayCount - 1 - index) % 7 == 0, last = index == dayCount - 1
            return DayColumn(day: day.isoString, segments: segments, axisLabel: labelled ? day.shortLabel : nil,
                             labelX: Self.svgNumber(last ? Self.plotRight + 4 : barX + barWidth / 2),
                             labelAnchor: last ? "end" : "middle")
        }

        ticks = (0...4).map { multiple in
            Tick(y: Self.svgNumber(Self.plotBottom - Double(multiple) / 4 * plotHeight),
                 label: PortalFormat.tokens(step * Int64(multiple)))
        }
        legend = series.map { operation in
            Series(operation: operation, label: PortalFormat.operationLabel(operation),
                   seriesClass: "series-\(colourIndex[operation] ?? 0)",
                   total: PortalFormat.tokens(tokens.reduce(0) { $0 + ($1[operation] ?? 0) }))
        }
        tableRows = window.indices.filter { dayTotals[$0] > 0 }.map { index in
            TableRow(day: window[index].isoString,
                     cells: series.map { PortalFormat.tokens(tokens[index][$0] ?? 0) },
                     total: PortalFormat.tokens(dayTotals[index]))
        }

        let total = dayTotals.reduce(0, +)
        hasUsage = total > 0
        title = "Tokens used per day, last \(dayCount) days (UTC)"
        let first = window.first?.isoString ?? "", last = window.last?.isoString ?? ""
        if let busiest = dayTotals.indices.max(by: { dayTotals[$0] < dayTotals[$1] }), total > 0 {
            summary = "\(PortalFormat.tokens(total)) tokens from \(first) to \(last), stacked by operation. "
                + "Busiest day: \(window[busiest].isoString) with \(PortalFormat.tokens(dayTotals[busiest])) tokens."
        } else {
            summary = "No tokens used from \(first) to \(last)."
        }
    }

    /// The grid step: the smallest round number (1, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ, whole) whose four
    /// steps reach `maximum`, so the tallest bar fills most of the chart; 1 when there is no usage.
    static func tickStep(forMaximum maximum: Int64) -> Int64 {
        let maximum = min(maximum, Int64.max / 8)  // four steps of the answer must still fit in Int64
        let perStep = max(1, maximum / 4 + (maximum % 4 == 0 ? 0 : 1))
        var magnitude: Int64 = 1
        while true {
            // Whole multiples only: 2.5 × 10ⁿ from 25 on.
            for (numerator, denominator): (Int64, Int64) in [(1, 1), (2, 1), (5, 2), (3, 1), (4, 1), (5, 1), (6, 1), (8, 1)]
            where magnitude % denominator == 0 && magnitude / denominator * numerator >= perStep {
                return magnitude / denominator * numerator
            }
            let (next, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow, next <= Int64.max / 8 else { return perStep }
            magnitude = next
        }
    }

    /// A coordinate with at most two decimals and no exponent: `12.5`, `0`, `228`.
    static func svgNumber(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let whole = hundredths / 100, fraction = abs(hundredths % 100)
        let sign = hundredths < 0 && whole == 0 ? "-" : ""
        if fraction == 0 { return "\(sign)\(whole)" }
        let digits = fraction % 10 == 0 ? "\(fraction / 10)" : (fraction < 10 ? "0\(fraction)" : "\(fraction)")
        return "\(sign)\(whole).\(digits)"
    }
}

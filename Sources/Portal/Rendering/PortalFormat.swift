import Foundation
import Policy

/// How the portal writes numbers and times, identically on every page and in portal.js
/// (`en-US` grouping, UTC, `YYYY-MM-DD HH:MM UTC`), independent of the server's locale.
enum PortalFormat {
    /// `12,345`; `-4`.
    static func tokens(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// A change in tokens with its sign: `+200`, `-4`, `0`.
    static func signedTokens(_ value: Int64) -> String {
        value > 0 ? "+" + tokens(value) : tokens(value)
    }

    /// `2026-11-20 14:03 UTC`.
    static func dateTime(_ date: Date) -> String {
        let instant = UTCInstant(date)
        return "\(instant.day.isoString) \(twoDigits(instant.hour)):\(twoDigits(instant.minute)) UTC"
    }

    /// `2026-11-20T14:03:05Z`, for `<time datetime>`.
    static func machineTimestamp(_ date: Date) -> String {
        let instant = UTCInstant(date)
        return "\(instant.day.isoString)T\(twoDigits(instant.hour)):\(twoDigits(instant.minute)):\(twoDigits(instant.second))Z"
    }

    /// `raster_generation` → `Raster generation`: a readable label derived from the policy's name.
    static func operationLabel(_ operation: String) -> String {
        let spaced = operation.replacingOccurrences(of: "_", with: " ")
        guard let first = spaced.first else { return spaced }
        return first.uppercased() + spaced.dropFirst()
    }

    static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}

/// A calendar day in UTC, counted in days since 1970-01-01, so "the last 30 days" is plain arithmetic.
struct UTCDay: Hashable, Comparable {
    let daysSinceEpoch: Int64

    init(daysSinceEpoch: Int64) { self.daysSinceEpoch = daysSinceEpoch }

    /// The UTC day that contains `date`.
    init(containing date: Date) {
        self.init(daysSinceEpoch: UTCInstant(date).day.daysSinceEpoch)
    }

    static func < (lhs: UTCDay, rhs: UTCDay) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    func adding(days: Int64) -> UTCDay { UTCDay(daysSinceEpoch: daysSinceEpoch + days) }

    /// Year, month (1–12) and day of month, by the proleptic Gregorian calendar.
    var civil: (year: Int64, month: Int64, day: Int64) { PlanCalendar.civil(fromDays: daysSinceEpoch) }

    /// `2026-11-20`: the format of `UsageRow.day`.
    var isoString: String { PlanCalendar.dayString(daysSinceEpoch * 86_400_000) }

    /// `Nov 20`: an axis label.
    var shortLabel: String {
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let (_, month, day) = civil
        return "\(names[Int(month - 1)]) \(day)"
    }
}

/// A `Date` split into its UTC day and time of day (whole seconds, rounded down).
struct UTCInstant {
    let day: UTCDay
    let hour: Int64
    let minute: Int64
    let second: Int64

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, remainder) = (seconds.floorDivided(by: 86_400), seconds.floorModulo(86_400))
        day = UTCDay(daysSinceEpoch: days)
        hour = remainder / 3600
        minute = remainder % 3600 / 60
        second = remainder % 60
    }
}

extension Int64 {
    /// Division rounding towards negative infinity (instants before 1970 still land on the right day).
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// The remainder that goes with `floorDivided(by:)`: always in `0..<divisor` for a positive divisor.
    func floorModulo(_ divisor: Int64) -> Int64 {
        self - floorDivided(by: divisor) * divisor
    }
}

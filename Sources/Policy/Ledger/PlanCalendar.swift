/// Plan periods: calendar months anchored at the account's start, in UTC.
///
/// Period *i* starts at anchor + *i* months. Adding months keeps the anchor's day of month and time of
/// day, clamped to the month's length and always computed from the anchor (not from the previous
/// period), so an account opened on 31 January renews on 28 (or 29) February, then on 31 March.
/// Its civil-date arithmetic (UTC days ↔ year, month, day) is the one the portal, the usage API and
/// the access log use too.
public enum PlanCalendar {
    static let millisecondsPerDay: Int64 = 86_400_000

    /// The instant `months` calendar months after `anchorMs`.
    static func adding(months: Int64, to anchorMs: Int64) -> Int64 {
        let (days, msOfDay) = floorDivide(anchorMs, millisecondsPerDay)
        let (year, month, day) = civil(fromDays: days)
        let monthIndex = year * 12 + (month - 1) + months
        let (newYear, newMonth0) = floorDivide(monthIndex, 12)
        let newMonth = newMonth0 + 1
        let newDay = min(day, daysIn(month: newMonth, year: newYear))
        return daysFromCivil(year: newYear, month: newMonth, day: newDay) * millisecondsPerDay + msOfDay
    }

    /// Start and end of period `index`.
    static func period(_ index: UInt32, anchorMs: Int64) -> (startMs: Int64, endMs: Int64) {
        (adding(months: Int64(index), to: anchorMs), adding(months: Int64(index) + 1, to: anchorMs))
    }

    /// The index of the period containing `nowMs` (at least `current`: periods never go backwards).
    static func periodIndex(containing nowMs: Int64, anchorMs: Int64, atLeast current: UInt32) -> UInt32 {
        var index = current
        // Jump close to the answer by month difference, then step; bounded either way.
        let (nowDays, _) = floorDivide(nowMs, millisecondsPerDay)
        let (anchorDays, _) = floorDivide(anchorMs, millisecondsPerDay)
        let (ny, nm, _) = civil(fromDays: nowDays)
        let (ay, am, _) = civil(fromDays: anchorDays)
        let estimate = (ny - ay) * 12 + (nm - am) - 1
        if estimate > Int64(index) { index = UInt32(clamping: estimate) }
        while index < UInt32.max, adding(months: Int64(index) + 1, to: anchorMs) <= nowMs { index += 1 }
        return index
    }

    /// `YYYY-MM-DD` of the UTC day containing `ms` (milliseconds since 1970).
    public static func dayString(_ ms: Int64) -> String {
        let (days, _) = floorDivide(ms, millisecondsPerDay)
        let (y, m, d) = civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func isLeap(_ year: Int64) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

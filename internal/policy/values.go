package policy

import (
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// Typed condition values. Policy values are parsed once at compile time;
// request values are parsed at evaluation time by the same functions, none
// of which allocate.

// instant is a point in time: seconds since the Unix epoch and nanoseconds.
// Not time.Time: it keeps the comparison allocation-free and free of
// location handling, and covers years 0000–9999.
type instant struct {
	sec  int64
	nsec int32
}

func (a instant) cmp(b instant) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nsec < b.nsec:
		return -1
	case a.nsec > b.nsec:
		return 1
	}
	return 0
}

// parseDate accepts the W3C profile of ISO 8601 that AWS documents for
// Date condition operators — YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm,
// …:ss and …:ss.s+, each time form with Z, ±hh:mm (or ±hhmm) or no zone
// (UTC) — and epoch seconds (optionally fractional), which aws:EpochTime
// uses. A string of exactly four digits is a year, not an epoch.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
// https://www.w3.org/TR/NOTE-datetime
func parseDate(s string) (instant, bool) {
	if len(s) == 0 {
		return instant{}, false
	}
	if len(s) != 4 && isEpoch(s) {
		return parseEpoch(s)
	}
	num := func(t string) (int, bool) {
		n := 0
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return 0, false
			}
			n = n*10 + int(t[i]-'0')
		}
		return n, len(t) > 0
	}
	if len(s) < 4 {
		return instant{}, false
	}
	year, ok := num(s[:4])
	if !ok {
		return instant{}, false
	}
	month, day := 1, 1
	rest := s[4:]
	if rest != "" {
		if len(rest) < 3 || rest[0] != '-' {
			return instant{}, false
		}
		if month, ok = num(rest[1:3]); !ok || month < 1 || month > 12 {
			return instant{}, false
		}
		rest = rest[3:]
		if rest != "" {
			if len(rest) < 3 || rest[0] != '-' {
				return instant{}, false
			}
			if day, ok = num(rest[1:3]); !ok || day < 1 || day > daysIn(year, month) {
				return instant{}, false
			}
			rest = rest[3:]
		}
	}
	var hour, min, sec, nsec int
	var offset int // seconds east of UTC
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' || len(rest) < 6 || rest[3] != ':' {
			return instant{}, false
		}
		if hour, ok = num(rest[1:3]); !ok || hour > 23 {
			return instant{}, false
		}
		if min, ok = num(rest[4:6]); !ok || min > 59 {
			return instant{}, false
		}
		rest = rest[6:]
		if len(rest) >= 3 && rest[0] == ':' {
			if sec, ok = num(rest[1:3]); !ok || sec > 60 {
				return instant{}, false
			}
			rest = rest[3:]
			if len(rest) >= 2 && (rest[0] == '.' || rest[0] == ',') {
				i := 1
				scale := 100000000
				for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
					nsec += int(rest[i]-'0') * scale
					scale /= 10
					i++
				}
				if i == 1 {
					return instant{}, false
				}
				rest = rest[i:]
			}
		}
		switch {
		case rest == "":
		case rest == "Z" || rest == "z":
		case rest[0] == '+' || rest[0] == '-':
			z := rest[1:]
			var zh, zm int
			switch {
			case len(z) == 5 && z[2] == ':':
				zh, ok = num(z[:2])
				if ok {
					zm, ok = num(z[3:])
				}
			case len(z) == 4:
				zh, ok = num(z[:2])
				if ok {
					zm, ok = num(z[2:])
				}
			case len(z) == 2:
				zh, ok = num(z)
			default:
				ok = false
			}
			if !ok || zh > 23 || zm > 59 {
				return instant{}, false
			}
			offset = zh*3600 + zm*60
			if rest[0] == '-' {
				offset = -offset
			}
		default:
			return instant{}, false
		}
	}
	days := daysFromCivil(year, month, day)
	secs := days*86400 + int64(hour*3600+min*60+sec-offset)
	return instant{sec: secs, nsec: int32(nsec)}, true
}

func isEpoch(s string) bool {
	i := 0
	if s[0] == '-' {
		i = 1
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
	}
	return digits > 0 && i == len(s)
}

func parseEpoch(s string) (instant, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec > 1<<40 || sec < -(1<<40) {
		return instant{}, false
	}
	var nsec int32
	scale := int32(100000000)
	for i := 0; i < len(frac) && scale > 0; i++ {
		nsec += int32(frac[i]-'0') * scale
		scale /= 10
	}
	if nsec != 0 && strings.HasPrefix(whole, "-") {
		sec--
		nsec = 1e9 - nsec
	}
	return instant{sec: sec, nsec: nsec}, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is Howard Hinnant's days_from_civil: days since 1970-01-01
// of a proleptic Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseNumber parses a Numeric operator value: an integer or decimal,
// optionally signed, optionally with an exponent. float64 is exact for every
// integer below 2^53, which covers the counts, sizes and epoch times
// policies compare.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	// Refuse what ParseFloat accepts but is not a number in a policy:
	// "Inf", "NaN", hex floats, underscores.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseBool accepts "true" and "false" in any case.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
func parseBool(s string) (v, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parsePrefix accepts a CIDR block or a bare address (a /32 or /128).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, false
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseAddr parses a request's address (aws:SourceIp).
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// decodeBase64 accepts standard base64 with or without padding.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_BinaryEquals
func decodeBase64(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}

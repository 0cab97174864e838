package worktime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridline.dev/gridline"
)

// DayKind is what an entry of the working calendar says of its day.
type DayKind string

const (
	Holiday       DayKind = "holiday"        // a public holiday (or a weekday declared off): not a working day
	MakeupWorkday DayKind = "makeup_workday" // 调休: a weekend day declared a working day
)

// Day is one entry of the working calendar: a day that is not what its weekday says. Days with no
// entry are working days from Monday to Friday.
type Day struct {
	Date   string  `json:"date"` // YYYY-MM-DD in the district's time zone
	Kind   DayKind `json:"kind"`
	Name   string  `json:"name"`   // 春节, 国庆节 ... or the reason of a local patch
	Source string  `json:"source"` // "lunar-go v1.4.7" for the official schedule, "patch" for a local one
	Year   int     `json:"year"`   // the year the day belongs to
}

// Span is a stretch of working hours within a day, in minutes from midnight: [From, To).
type Span struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Schedule is the working hours of the days from From (MM-DD) on, until the next schedule's From:
// a district with summer and winter hours has two.
type Schedule struct {
	From  string `json:"from"` // MM-DD
	Spans []Span `json:"spans"`
}

// DefaultHours are the common office hours of a Chinese district: 09:00-12:00 and 13:30-17:30.
var DefaultHours = []Schedule{{From: "01-01", Spans: []Span{{9 * 60, 12 * 60}, {13*60 + 30, 17*60 + 30}}}}

// Calendar is a district's working calendar: which days are working days and their working hours.
// It is read-only once built, and safe for concurrent use.
type Calendar struct {
	loc   *time.Location
	days  map[string]Day // by date
	years map[int]bool   // the years with official data
	hours []Schedule     // sorted by From
}

// NewCalendar builds a calendar in loc from its days (a patch, Source "patch", wins over the
// official entry of the same date) and working hours (nil: DefaultHours).
func NewCalendar(loc *time.Location, days []Day, hours []Schedule) (*Calendar, error) {
	if hours == nil {
		hours = DefaultHours
	}
	if err := CheckHours(hours); err != nil {
		return nil, err
	}
	c := &Calendar{loc: loc, days: map[string]Day{}, years: map[int]bool{}, hours: slices.Clone(hours)}
	slices.SortFunc(c.hours, func(a, b Schedule) int { return strings.Compare(a.From, b.From) })
	for _, d := range days {
		if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
			return nil, gridline.Errorf(gridline.EInvalid, "calendar day %q: not a date; write YYYY-MM-DD", d.Date)
		}
		if old, ok := c.days[d.Date]; ok && old.Source == PatchSource && d.Source != PatchSource {
			continue
		}
		c.days[d.Date] = d
		if d.Source != PatchSource {
			c.years[d.Year] = true
		}
	}
	return c, nil
}

// PatchSource is the Source of a day an administrator set.
const PatchSource = "patch"

// CheckHours checks working hours: each schedule's From a MM-DD, unique, its spans inside the day,
// in order, not overlapping.
func CheckHours(hours []Schedule) error {
	if len(hours) == 0 {
		return gridline.Errorf(gridline.EInvalid, "working hours: no schedule; give at least one, from 01-01")
	}
	seen := map[string]bool{}
	for i, s := range hours {
		if _, err := time.Parse("01-02", s.From); err != nil {
			return gridline.Errorf(gridline.EInvalid, "working hours, schedule %d: from %q is not a MM-DD date", i+1, s.From).With("field", "from")
		}
		if seen[s.From] {
			return gridline.Errorf(gridline.EInvalid, "working hours: two schedules from %s; keep one", s.From).With("field", "from")
		}
		seen[s.From] = true
		prev := 0
		for _, sp := range s.Spans {
			if sp.From < prev || sp.To <= sp.From || sp.To > 24*60 {
				return gridline.Errorf(gridline.EInvalid, "working hours from %s: span %s is out of order, empty, overlapping or past midnight; list spans like 09:00-12:00 in order", s.From, sp).With("field", "spans")
			}
			prev = sp.To
		}
	}
	return nil
}

// String is the span as HH:MM-HH:MM.
func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60)
}

// MarshalJSON writes the span as "HH:MM-HH:MM".
func (s Span) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// UnmarshalJSON reads a span written as "HH:MM-HH:MM".
func (s *Span) UnmarshalJSON(b []byte) error {
	str, err := strconv.Unquote(string(b))
	if err != nil {
		return gridline.Errorf(gridline.EInvalid, "working hours: a span is a string like \"09:00-12:00\"")
	}
	sp, err := ParseSpans(str)
	if err != nil {
		return err
	}
	if len(sp) != 1 {
		return gridline.Errorf(gridline.EInvalid, "working hours: %q is not one span like \"09:00-12:00\"", str)
	}
	*s = sp[0]
	return nil
}

// ParseSpans reads "09:00-12:00,13:30-17:30".
func ParseSpans(s string) ([]Span, error) {
	var out []Span
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, gridline.Errorf(gridline.EInvalid, "working hours %q: write spans as HH:MM-HH:MM separated by commas", s)
		}
		from, err1 := parseClock(a)
		to, err2 := parseClock(b)
		if err1 != nil || err2 != nil {
			return nil, gridline.Errorf(gridline.EInvalid, "working hours %q: %q is not HH:MM-HH:MM", s, part)
		}
		out = append(out, Span{from, to})
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, fmt.Errorf("no colon")
	}
	hh, err := strconv.Atoi(h)
	if err != nil || hh < 0 || hh > 24 {
		return 0, fmt.Errorf("hour")
	}
	mm, err := strconv.Atoi(m)
	if err != nil || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("minute")
	}
	return hh*60 + mm, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Hours are the calendar's working hours.
func (c *Calendar) Hours() []Schedule { return slices.Clone(c.hours) }

// Entry is the calendar's entry for date (YYYY-MM-DD), if it has one.
func (c *Calendar) Entry(date string) (Day, bool) {
	d, ok := c.days[date]
	return d, ok
}

// IsWorkday says whether the day of t (in the calendar's zone) is a working day: a make-up working
// day, or Monday to Friday and not a holiday.
func (c *Calendar) IsWorkday(t time.Time) bool {
	t = t.In(c.loc)
	if d, ok := c.days[t.Format(time.DateOnly)]; ok {
		return d.Kind == MakeupWorkday
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// spansOn are the working hours of the day of midnight.
func (c *Calendar) spansOn(midnight time.Time) []Span {
	md := midnight.Format("01-02")
	spans := c.hours[len(c.hours)-1].Spans // before the first From: the last schedule of the year before
	for _, s := range c.hours {
		if s.From <= md {
			spans = s.Spans
		}
	}
	return spans
}

// MissingYears lists the years between now and now+within that have no official data: their
// holidays are unknown, and deadlines in them count only weekends as days off.
func (c *Calendar) MissingYears(now time.Time, within time.Duration) []int {
	var out []int
	for y := now.In(c.loc).Year(); y <= now.Add(within).In(c.loc).Year(); y++ {
		if !c.years[y] {
			out = append(out, y)
		}
	}
	return out
}

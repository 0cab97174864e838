package worktime

import (
	"strconv"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// OfficialSource is the Source of the days taken from the State Council's schedules as
// github.com/6tail/lunar-go carries them (pinned in go.mod; a new release brings a new year).
const OfficialSource = "lunar-go v1.4.7"

// Official are the public holidays and make-up working days of year as published by the State
// Council, from lunar-go's table; none when it has no schedule for the year yet (the notice
// normally appears in early November of the year before). The store seeds its calendar table
// with them: deadlines never ask lunar-go at request time.
func Official(year int) []Day {
	var out []Day
	for e := HolidayUtil.GetHolidaysByYear(year).Front(); e != nil; e = e.Next() {
		h := e.Value.(*HolidayUtil.Holiday)
		kind := Holiday
		if h.IsWork() {
			kind = MakeupWorkday
		}
		y, _ := strconv.Atoi(h.GetDay()[:4])
		out = append(out, Day{Date: h.GetDay(), Kind: kind, Name: h.GetName(), Source: OfficialSource, Year: y})
	}
	return out
}

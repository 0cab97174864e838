package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"gridline.dev/gridline/stats"
	"gridline.dev/gridline/store"
)

func main() {
	ctx := context.Background()
	db, err := store.Open(ctx, os.Getenv("DATABASE_URL"), store.Options{})
	if err != nil {
		panic(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
	q := stats.Query{Group: stats.Group(os.Args[1]), From: from, To: from.AddDate(0, 0, 29), Bucket: stats.BucketNone, Loc: loc, Access: stats.Access{Everywhere: true}, Now: time.Now()}
	var working [][2]time.Time
	if len(os.Args) > 2 {
		for d := from.AddDate(0, -6, 0); d.Before(q.End()); d = d.AddDate(0, 0, 1) {
			if d.Weekday() != 0 && d.Weekday() != 6 {
				working = append(working, [2]time.Time{d.Add(9 * time.Hour), d.Add(12 * time.Hour)}, [2]time.Time{d.Add(13*time.Hour + 30*time.Minute), d.Add(17*time.Hour + 30*time.Minute)})
			}
		}
	}
	for i := 0; i < 3; i++ {
		t := time.Now()
		cells, err := db.StatsCells(ctx, q, working)
		fmt.Println(len(cells), err, time.Since(t))
	}
}

package main

import (
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline/api"
)

func TestHTTPOptions(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		idle    time.Duration
		public  string
		wantErr string
	}{
		{"defaults", nil, 0, "", ""},
		{"both set", map[string]string{"GRIDLINE_BODY_IDLE": "45s", "GRIDLINE_PUBLIC_URL": "https://grids.example.gov.cn/gridline"}, 45 * time.Second, "https://grids.example.gov.cn/gridline", ""},
		{"idle without a unit", map[string]string{"GRIDLINE_BODY_IDLE": "30"}, 0, "", `GRIDLINE_BODY_IDLE "30"`},
		{"idle under a second", map[string]string{"GRIDLINE_BODY_IDLE": "10ms"}, 0, "", `GRIDLINE_BODY_IDLE "10ms"`},
		{"public URL without a scheme", map[string]string{"GRIDLINE_PUBLIC_URL": "grids.example.gov.cn"}, 0, "", `GRIDLINE_PUBLIC_URL "grids.example.gov.cn"`},
		{"public URL with a query", map[string]string{"GRIDLINE_PUBLIC_URL": "http://a.example/?x=1"}, 0, "", `GRIDLINE_PUBLIC_URL`},
		{"public URL of another scheme", map[string]string{"GRIDLINE_PUBLIC_URL": "ftp://a.example"}, 0, "", `GRIDLINE_PUBLIC_URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opt api.Options
			err := httpOptions(func(k string) string { return tc.env[k] }, &opt)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
			case tc.wantErr == "" && (opt.BodyIdle != tc.idle || opt.PublicURL != tc.public):
				t.Fatalf("idle %v, public URL %q; want %v, %q", opt.BodyIdle, opt.PublicURL, tc.idle, tc.public)
			}
		})
	}
}

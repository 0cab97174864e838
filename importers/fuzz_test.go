package importers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseMapping: any input is either refused with an error or gives a mapping that validates.
func FuzzParseMapping(f *testing.F) {
	f.Add([]byte(`{"fields": {"code": "WGBM", "name": "WGMC"}, "level": "grid"}`))
	f.Add([]byte(`{"fields": {"parent_code": "上级编码"}, "layer": "police", "kind": "school"}`))
	f.Add([]byte(`{"fields": {"nope": "x"}}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMapping(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ParseMapping accepted a mapping that does not validate: %v", err)
		}
		// Resolving against any columns never panics.
		m.resolve([]string{"code", "NAME", "层级"})
	})
}

// FuzzDBFText: the .dbf walker never panics and reads past no record, whatever the header says.
func FuzzDBFText(f *testing.F) {
	hdr := make([]byte, 65)
	hdr[0], hdr[4], hdr[8], hdr[10] = 3, 1, 65, 11
	copy(hdr[32:], "NAME")
	hdr[32+11], hdr[32+16] = 'C', 10
	hdr[64] = 0x0d
	f.Add(append(hdr, []byte(" \xb6\xfe\xc6\xdf\xc7\xf8    ")...))
	f.Add([]byte("short"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "x.dbf")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := dbfText(p)
		if err == nil && st.invalidRecord < 0 {
			t.Fatal("negative record")
		}
	})
}

// FuzzPrepareCSV: the CSV encoding step hands GDAL valid UTF-8 or refuses the file.
func FuzzPrepareCSV(f *testing.F) {
	f.Add([]byte("code,name,wkt\n1,二七,\"POLYGON((0 0,1 0,1 1,0 0))\"\n"), "")
	f.Add([]byte("code,name\n1,\xb6\xfe\xc6\xdf\n"), "gbk")
	f.Add([]byte("\xef\xbb\xbfcode\n1\n"), "utf-8")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, enc string) {
		work, err := os.MkdirTemp(dir, "w")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(work)
		p := filepath.Join(work, "in.csv")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := normEncoding(enc)
		if err != nil {
			return
		}
		s := &source{path: p, name: "in.csv"}
		if err := prepareCSV(s, e, work); err != nil {
			return
		}
		out, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("prepareCSV passed on text that is not UTF-8 (encoding %q)", s.encoding)
		}
	})
}

// FuzzParseGDAL: GDAL's stderr is split into messages without panicking or inventing any.
func FuzzParseGDAL(f *testing.F) {
	f.Add("ERROR 1: Non closed ring detected.\nWarning 1: something\n  continued\n")
	f.Fuzz(func(t *testing.T, s string) {
		r := parseGDAL(s)
		if n := strings.Count(s, "ERROR "); len(r.errors) > n {
			t.Fatalf("%d errors from %d ERROR lines", len(r.errors), n)
		}
	})
}

// FuzzParseStaffCSV: every line is either a row or a problem, and rows are valid.
func FuzzParseStaffCSV(f *testing.F) {
	f.Add([]byte("网格编码,岗位,姓名,电话,任职日期\n410103001,网格长,王,138,2025-01-01\n"), "")
	f.Add([]byte("grid_code,role,name\n1,grid_chief,x\n\"unterminated\n"), "utf-8")
	f.Add([]byte("code,role,name\n1,\xcd\xf8\xb8\xf1\xb3\xa4,x\n"), "gbk")
	f.Fuzz(func(t *testing.T, b []byte, enc string) {
		rows, _, err := ParseStaffCSV(b, enc, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return
		}
		for _, r := range rows {
			if !r.Post.Valid() || r.GridCode == "" || r.Name == "" || r.From.IsZero() || (r.To != nil && !r.To.After(r.From)) {
				t.Fatalf("invalid row accepted: %+v", r)
			}
		}
	})
}

func TestPGConn(t *testing.T) {
	conn, env := pgConn("postgres://gridline:s3cr'et@127.0.0.1:55432/grid_db?sslmode=disable")
	if conn != `dbname='grid_db' host='127.0.0.1' port='55432' user='gridline' sslmode='disable'` {
		t.Errorf("conn = %s", conn)
	}
	if len(env) != 1 || env[0] != "PGPASSWORD=s3cr'et" {
		t.Errorf("env = %v", env)
	}
	if conn, _ := pgConn("dbname=x host=y"); conn != "dbname=x host=y" {
		t.Errorf("keyword form changed: %s", conn)
	}
}

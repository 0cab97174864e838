package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/tiles"
)

// A method a path does not answer is 405 method_not_allowed, in the one error shape.
func TestMethodNotAllowed(t *testing.T) {
	ts := tileServer(t, tiles.Options{})
	resp, err := http.Post(ts.URL+"/v1/grids", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error *gridline.Error `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error == nil {
		t.Fatalf("status %d, body not in the error shape: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusMethodNotAllowed || body.Error.Code != gridline.EMethodNotAllowed {
		t.Fatalf("POST /v1/grids: %d %s (%s), want 405 %s", resp.StatusCode, body.Error.Code, body.Error.Message, gridline.EMethodNotAllowed)
	}
}

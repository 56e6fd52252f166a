package onerostertest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
)

func TestServer(t *testing.T) {
	srv := onerostertest.New("id", "secret")
	defer srv.Close()

	token := func(t *testing.T, user, pass, scope string) (int, string) {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
		req, _ := http.NewRequest(http.MethodPost, srv.TokenURL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.AccessToken
	}
	t.Run("TokenBadSecret", func(t *testing.T) {
		if code, _ := token(t, "id", "nope", onerostertest.Scope); code != http.StatusUnauthorized {
			t.Errorf("got %d, want 401", code)
		}
	})
	t.Run("TokenBadScope", func(t *testing.T) {
		if code, _ := token(t, "id", "secret", "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly"); code != http.StatusBadRequest {
			t.Errorf("got %d, want 400", code)
		}
	})
	code, tok := token(t, "id", "secret", onerostertest.Scope)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("token: %d %q", code, tok)
	}

	const id = "r-1"
	ref := func(typ, sid string) string {
		return `{"href":"https://x/` + sid + `","sourcedId":"` + sid + `","type":"` + typ + `"}`
	}
	valid := `{"sourcedId":"r-1","status":"active","lineItem":` + ref("lineItem", "li") + `,"student":` + ref("user", "s") +
		`,"scoreStatus":"fully graded","score":5,"scoreDate":"2026-03-01T08:00:00.000Z"}`
	tests := []struct {
		name, token, body string
		want              int
	}{
		{"OK", tok, `{"result":` + valid + `}`, http.StatusCreated},
		{"OKAgain", tok, `{"result":` + valid + `}`, http.StatusOK},
		{"NoToken", "", `{"result":` + valid + `}`, http.StatusUnauthorized},
		{"NoEnvelope", tok, valid, http.StatusBadRequest},
		{"BadScoreStatus", tok, `{"result":` + strings.Replace(valid, "fully graded", "fullyGraded", 1) + `}`, http.StatusUnprocessableEntity},
		{"IDMismatch", tok, `{"result":` + strings.Replace(valid, `"r-1"`, `"r-2"`, 1) + `}`, http.StatusUnprocessableEntity},
		{"BadDate", tok, `{"result":` + strings.Replace(valid, "2026-03-01T08:00:00.000Z", "2026-03-01 08:00", 1) + `}`, http.StatusUnprocessableEntity},
		{"LocalDate", tok, `{"result":` + strings.Replace(valid, "08:00:00.000Z", "10:00:00+02:00", 1) + `}`, http.StatusUnprocessableEntity},
		{"BadRefType", tok, `{"result":` + strings.Replace(valid, `"type":"user"`, `"type":"student"`, 1) + `}`, http.StatusUnprocessableEntity},
		{"NoStudent", tok, `{"result":` + strings.Replace(valid, `"student":`+ref("user", "s")+`,`, "", 1) + `}`, http.StatusUnprocessableEntity},
		{"UnknownField", tok, `{"result":` + strings.Replace(valid, `"score":5`, `"points":5`, 1) + `}`, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, srv.BaseURL()+"/results/"+id, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got %d, want %d: %s", resp.StatusCode, tt.want, b)
			}
		})
	}
	if srv.Result(id)["score"] != 5.0 {
		t.Errorf("stored: %v", srv.Result(id))
	}
}

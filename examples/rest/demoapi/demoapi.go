// Package demoapi is a small HTTP API for the Rest example pipeline: customers paged by page
// number, each customer's orders paged by cursor, behind a bearer token. The example's test
// and the demo-api command serve it.
package demoapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Token is the bearer token the API accepts.
const Token = "demo-token"

type customer struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

type order struct {
	ID       int    `json:"id"`
	Amount   string `json:"amount"`
	PlacedAt string `json:"placed_at"`
}

var customers = []customer{{1, "Alvar", "EE"}, {2, "Birgit", "FI"}, {3, "Chen", "SE"}, {4, "Dana", "EE"}, {5, "Eino", "FI"}}

// ordersOf gives customer id three orders.
func ordersOf(id int) []order {
	var out []order
	for k := 1; k <= 3; k++ {
		out = append(out, order{ID: id*100 + k, Amount: fmt.Sprintf("%d.%02d", id*10+k, k*5), PlacedAt: fmt.Sprintf("2024-0%d-1%dT09:30:00Z", k, id)})
	}
	return out
}

// Handler serves GET /customers?page=&per_page= and GET /customers/{id}/orders?cursor=.
func Handler() http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+Token {
				w.Header().Set("WWW-Authenticate", `Bearer realm="demo"`)
				http.Error(w, `{"error": "missing or wrong token"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			h(w, r)
		}
	}
	mux.HandleFunc("GET /customers", auth(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if page < 1 {
			page = 1
		}
		if per < 1 {
			per = 2
		}
		from := min((page-1)*per, len(customers))
		to := min(from+per, len(customers))
		json.NewEncoder(w).Encode(map[string]any{"data": customers[from:to], "page": page, "total": len(customers)})
	}))
	mux.HandleFunc("GET /customers/{id}/orders", auth(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 1 || id > len(customers) {
			http.Error(w, `{"error": "no such customer"}`, http.StatusNotFound)
			return
		}
		all := ordersOf(id)
		start := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(c, "o"))
		}
		end := min(start+2, len(all))
		meta := map[string]any{}
		if end < len(all) {
			meta["next_cursor"] = fmt.Sprintf("o%d", end)
		}
		json.NewEncoder(w).Encode(map[string]any{"orders": all[start:end], "meta": meta})
	}))
	return mux
}

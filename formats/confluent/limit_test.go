package confluent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestClientResponseCapped: a registry streaming an endless schema string
// makes the lookup fail once MaxResponseBytes are read, with or without a
// Content-Length saying so up front.
func TestClientResponseCapped(t *testing.T) {
	for _, tc := range []struct {
		name          string
		contentLength bool
	}{
		{"streamed", false},
		{"content-length", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
				if tc.contentLength {
					w.Header().Set("Content-Length", fmt.Sprint(4<<30))
				}
				if _, err := fmt.Fprint(w, `{"subject":"s","version":1,"id":1,"schema":"`); err != nil {
					return
				}
				chunk := []byte(strings.Repeat("x", 1<<16))
				for i := 0; i < (4<<30)/len(chunk); i++ {
					if _, err := w.Write(chunk); err != nil {
						return // the client hung up
					}
				}
			}))
			defer srv.Close()
			cl, err := NewClient(Config{URLs: []string{srv.URL}, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.SchemaByVersion(context.Background(), "s", 1)
			if !errors.Is(err, ErrResponseTooLarge) {
				t.Fatalf("err = %v, want %v", err, ErrResponseTooLarge)
			}
			if !strings.Contains(err.Error(), "larger than 16 MiB") {
				t.Errorf("err = %v, want it to name the limit", err)
			}
		})
	}
}

// TestClientSmallResponse: responses within the cap read whole.
func TestClientSmallResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"subject":"s","version":1,"id":7,"schema":"\"string\""}`)
	}))
	defer srv.Close()
	cl, err := NewClient(Config{URLs: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := cl.SchemaByVersion(context.Background(), "s", 1)
	if err != nil || ss.ID != 7 || ss.Schema.Schema != `"string"` {
		t.Fatalf("got %+v, %v", ss, err)
	}
}

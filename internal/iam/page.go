package iam

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
)

// Page asks for one page of a list: IAM's Marker and MaxItems.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html
type Page struct {
	Marker   string // opaque, from a previous response; "" for the first page
	MaxItems int    // 1..1000; 0 means AWS's default of 100
}

// DefaultMaxItems is what IAM returns when MaxItems is not given.
const DefaultMaxItems = 100

// Paged is one page of results.
type Paged[T any] struct {
	Items       []*T
	IsTruncated bool
	Marker      string // pass back to get the next page
}

// markerKey decodes an opaque marker into the kv key it stands for.
func markerKey(m string) (string, error) {
	if m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || len(b) == 0 {
		return "", apierr.New(apierr.InvalidInput, "Invalid Marker.")
	}
	return string(b), nil
}

func keyMarker(k string) string { return base64.RawURLEncoding.EncodeToString([]byte(k)) }

// scanPage returns one page of (table, prefix) in key order, keeping the
// items for which keep returns true (nil keeps all).
func scanPage[T any](tx kv.Tx, table, prefix string, p Page, keep func(*T) bool) (*Paged[T], error) {
	after, err := markerKey(p.Marker)
	if err != nil {
		return nil, err
	}
	max := p.MaxItems
	if max <= 0 {
		max = DefaultMaxItems
	}
	out := &Paged[T]{}
	var last string
	errStop := fmt.Errorf("stop")
	err = tx.Scan(table, prefix, after, 0, func(k string, b []byte) error {
		v := new(T)
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decode %s/%s: %w", table, k, err)
		}
		if keep != nil && !keep(v) {
			return nil
		}
		if len(out.Items) == max {
			out.IsTruncated = true
			out.Marker = keyMarker(last)
			return errStop
		}
		out.Items = append(out.Items, v)
		last = k
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	return out, nil
}

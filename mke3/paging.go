package mke3

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
)

// headerNextPageStart carries the start of the next page; absent or empty
// on the last page.
const headerNextPageStart = "X-Next-Page-Start"

// pageFunc decodes one page and hands its items to the consumer. It returns
// the number of items on the page, the body's nextPageStart (if any), and
// false when the consumer stopped.
type pageFunc func(resp *response) (n int, bodyNext string, more bool, err error)

// walk requests the pages of a list in order and passes each to fn. It ends
// on the last page, when fn stops, or with the first error.
func (c *Client) walk(ctx context.Context, path string, query url.Values, fn pageFunc) error {
	used := make(map[string]struct{})
	start := ""
	emptyRun, total := 0, 0
	for page := 1; ; page++ {
		q := make(url.Values, len(query)+2)
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(c.pageSize))
		if start != "" {
			q.Set("start", start)
		}
		resp, err := c.do(ctx, &request{
			method:     http.MethodGet,
			path:       path,
			query:      q,
			accept:     "application/json",
			auth:       true,
			replayable: true,
		})
		if err != nil {
			return err
		}
		n, next, more, err := fn(resp)
		if err != nil {
			return err
		}
		total += n
		c.log.LogAttrs(ctx, slog.LevelDebug, "mke3 page",
			slog.String("path", path), slog.Int("page", page), slog.Int("items", n), slog.Int("total", total))
		if !more {
			return nil
		}
		if v := resp.header.Values(headerNextPageStart); len(v) > 0 {
			next = v[0] // the header wins, even empty
		}
		if next == "" {
			c.log.LogAttrs(ctx, slog.LevelDebug, "mke3 list complete",
				slog.String("path", path), slog.Int("pages", page), slog.Int("items", total))
			return nil
		}
		if c.redact(next) != next {
			// A server that echoes a credential as a page start must
			// not get it back in a URL, where proxies would log it.
			return &opError{method: http.MethodGet, path: path,
				err: errors.New("the next page start holds a credential of this client; not following it")}
		}
		if n == 0 {
			emptyRun++
			if emptyRun >= 2 {
				return &opError{method: http.MethodGet, path: path,
					err: fmt.Errorf("%d pages in a row had no items yet pointed to a next page: %w", emptyRun, ErrRepeatedPage)}
			}
		} else {
			emptyRun = 0
		}
		if _, seen := used[next]; seen || next == start {
			return &opError{method: http.MethodGet, path: path,
				err: fmt.Errorf("page %d points to start %q, already used: %w", page, cleanText(next, nil), ErrRepeatedPage)}
		}
		used[next] = struct{}{}
		start = next
	}
}

// pagedItems is the iterator over the items of a paged list. decode turns a
// page body into its items and the body's nextPageStart; expected says what
// a page should look like, for errors.
func pagedItems[T any](ctx context.Context, c *Client, path string, query url.Values, expected string, decode func([]byte) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		err := c.walk(ctx, path, query, func(resp *response) (int, string, bool, error) {
			items, next, err := decode(resp.body)
			if err != nil {
				return 0, "", false, &opError{method: resp.method, path: resp.path, err: decodeError(expected, err)}
			}
			for _, it := range items {
				if !yield(it, nil) {
					return len(items), next, false, nil
				}
			}
			return len(items), next, true, nil
		})
		if err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

// failed is an iterator that yields only err.
func failed[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

// collect drains an iterator: every item, or nil and the error.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for it, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

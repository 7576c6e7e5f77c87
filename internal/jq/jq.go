// Package jq runs endpoints' jq expressions (github.com/itchyny/gojq, a
// maintained pure-Go jq): a filter that decides whether an event is sent,
// a transform that makes the body. Expressions are compiled once, and
// each run is bounded in time and in the size of what it makes.
package jq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/itchyny/gojq"
)

// Bounds of one run.
const (
	MaxExpr   = 4096
	Timeout   = 100 * time.Millisecond
	MaxOutput = 256 << 10
)

var compiled sync.Map // expression -> *gojq.Code

// Compile parses and compiles an expression; the error is the parser's
// or compiler's message.
func Compile(expr string) (*gojq.Code, error) {
	if c, ok := compiled.Load(expr); ok {
		return c.(*gojq.Code), nil
	}
	if len(expr) > MaxExpr {
		return nil, fmt.Errorf("expression longer than %d bytes", MaxExpr)
	}
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, err
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, err
	}
	compiled.Store(expr, code)
	return code, nil
}

// run evaluates expr on the JSON payload within Timeout and returns its
// first output, and whether there was one.
func run(ctx context.Context, expr string, payload []byte) (any, bool, error) {
	code, err := Compile(expr)
	if err != nil {
		return nil, false, err
	}
	var in any
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, false, fmt.Errorf("payload: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	iter := code.RunWithContext(ctx, in)
	v, ok := iter.Next()
	if !ok {
		return nil, false, nil
	}
	if err, isErr := v.(error); isErr {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, false, fmt.Errorf("took longer than %s", Timeout)
		}
		return nil, false, err
	}
	return v, true, nil
}

// Filter reports whether expr's first output for the payload is truthy
// (neither false nor null); no output is false.
func Filter(ctx context.Context, expr string, payload []byte) (bool, error) {
	v, ok, err := run(ctx, expr, payload)
	if err != nil || !ok {
		return false, err
	}
	return v != nil && v != false, nil
}

// Transform returns expr's first output for the payload, as JSON: the body
// sent. An expression with no output is an error.
func Transform(ctx context.Context, expr string, payload []byte) ([]byte, error) {
	v, ok, err := run(ctx, expr, payload)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("the transform produced nothing")
	}
	out, err := gojq.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxOutput {
		return nil, fmt.Errorf("the transform made %d bytes, more than %d", len(out), MaxOutput)
	}
	return out, nil
}

package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
)

// serveDebug serves pprof profiles on a separate listener.
func serveDebug(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	log.Info("debug server", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		log.Error("debug server", "err", err)
	}
}

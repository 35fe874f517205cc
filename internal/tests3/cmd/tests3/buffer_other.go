//go:build !linux

package main

func newBuffer(n int64) []byte { return make([]byte, n) }

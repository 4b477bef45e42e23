// Package archtest holds no code, only a test that keeps iamd's import graph
// pointing inward (see conventions: dependencies point inward).
package archtest

package policy

// arena hands out the many small slices a compiled policy holds (pattern
// elements, variables, ARN components, condition values) from a few larger
// allocations. Everything it hands out lives as long as the policy, so
// nothing is ever freed piecemeal.
type arena struct {
	elems []elem
	vars  []varRef
	pats  []pattern
	arns  []arnPattern
}

// carve returns n zeroed elements from *slab, refilling the slab with a
// chunk of max(n, chunk) elements when it is short. The result's capacity
// is n, so appending to it never writes into a neighbour.
func carve[T any](slab *[]T, n, chunk int) []T {
	if n == 0 {
		return nil
	}
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(n, chunk))
	}
	s := *slab
	out := s[len(s) : len(s)+n : len(s)+n]
	*slab = s[:len(s)+n]
	return out
}

package policy

import "strings"

// indexMin is the statement count from which Compile builds a vendor
// index. Below it, the per-action vendor check in actionSet.match is as
// cheap as a lookup.
const indexMin = 8

// vendorIndex lists, per service prefix ("s3", "iam"), the statements that
// can apply to an action of that service, in document order. A statement
// whose actions all name other services cannot match, so leaving it out
// skips no possible Deny. Statements with NotAction or a wildcard in a
// vendor ("*", "s*:Get*") can match any service and are in every list.
type vendorIndex struct {
	vendors []string         // lower-cased; parallel to lists
	lists   [][]int32        // statement indices, ascending
	byName  map[string]int32 // vendor → position in vendors, for many vendors
	other   []int32          // statements that match any vendor
}

// lookup returns the statements to evaluate for an action of vendor.
func (ix *vendorIndex) lookup(vendor string) []int32 {
	if ix.byName == nil {
		for i, v := range ix.vendors {
			if len(v) == len(vendor) && hasPrefix(vendor, v, true) {
				return ix.lists[i]
			}
		}
		return ix.other
	}
	var buf [64]byte
	if len(vendor) > len(buf) {
		return ix.other // longer than any vendor a policy could index
	}
	for i := 0; i < len(vendor); i++ {
		buf[i] = lowerASCII(vendor[i])
	}
	if i, ok := ix.byName[string(buf[:len(vendor)])]; ok {
		return ix.lists[i]
	}
	return ix.other
}

func buildIndex(c *Compiled) *vendorIndex {
	ix := &vendorIndex{}
	// anyVendor[set] says whether an action set can match any vendor.
	anyVendor := make([]bool, len(c.sets))
	var nOther int
	for i := range c.sets {
		as := &c.sets[i]
		if as.not {
			anyVendor[i] = true
			continue
		}
		for _, v := range as.vendors {
			if v == "" || len(v) > 64 {
				anyVendor[i] = true
				break
			}
		}
		if anyVendor[i] {
			continue
		}
		for _, v := range as.vendors {
			if ix.find(v) < 0 {
				ix.vendors = append(ix.vendors, strings.ToLower(v))
			}
		}
	}
	counts := make([]int, len(ix.vendors))
	for i := range c.stmts {
		st := &c.stmts[i]
		if anyVendor[st.actSet] {
			nOther++
			continue
		}
		ix.each(st.act, func(k int) { counts[k]++ })
	}
	total := nOther
	for _, n := range counts {
		total += n + nOther
	}
	slab := make([]int32, 0, total)
	ix.lists = make([][]int32, len(ix.vendors))
	carve := func(n int) []int32 {
		s := slab[len(slab) : len(slab) : len(slab)+n]
		slab = slab[:len(slab)+n]
		return s
	}
	ix.other = carve(nOther)
	for k, n := range counts {
		ix.lists[k] = carve(n + nOther)
	}
	for i := range c.stmts {
		st := &c.stmts[i]
		if anyVendor[st.actSet] {
			ix.other = append(ix.other, int32(i))
			for k := range ix.lists {
				ix.lists[k] = append(ix.lists[k], int32(i))
			}
			continue
		}
		ix.each(st.act, func(k int) { ix.lists[k] = append(ix.lists[k], int32(i)) })
	}
	if len(ix.vendors) > 8 {
		ix.byName = make(map[string]int32, len(ix.vendors))
		for k, v := range ix.vendors {
			ix.byName[v] = int32(k)
		}
	}
	return ix
}

func (ix *vendorIndex) find(v string) int {
	for k, x := range ix.vendors {
		if len(x) == len(v) && hasPrefix(v, x, true) {
			return k
		}
	}
	return -1
}

// each calls f once for every distinct indexed vendor of as.
func (ix *vendorIndex) each(as *actionSet, f func(k int)) {
	for i, v := range as.vendors {
		dup := false
		for _, w := range as.vendors[:i] {
			if len(w) == len(v) && hasPrefix(v, w, true) {
				dup = true
				break
			}
		}
		if !dup {
			f(ix.find(v))
		}
	}
}

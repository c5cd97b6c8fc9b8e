package jsonfmt

import (
	"encoding/json"
	"math"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{19, "19.0"},
		{-1, "-1.0"},
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{0.488865616, "0.488865616"},
		{9.30622409e-05, "9.30622409e-05"},
		{0.000123, "0.000123"},
		{1234567, "1234567.0"},
		{1e14, "100000000000000.0"},
		{1e15, "1e+15"},
		{0.28326698300000003, "0.28326698300000003"},
		{1.5e300, "1.5e+300"},
		{5e-324, "5e-324"},
		{-30.5774702, "-30.5774702"},
		{100.25, "100.25"},
	}
	for _, tt := range tests {
		got, err := AppendFloat(nil, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("AppendFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
		if back, err := json.Number(string(got)).Float64(); err != nil || back != tt.in {
			t.Errorf("AppendFloat(%v) = %s reads back as %v, %v", tt.in, got, back, err)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := AppendFloat(nil, bad); err == nil {
			t.Errorf("AppendFloat(%v) gave no error", bad)
		}
	}
}

func TestCachedPowers(t *testing.T) {
	t.Parallel()
	// The first and last entries of the table Grisu implementations ship precomputed.
	if got, want := cachedPowers[0], (cachedPower{0xAB70FE17C79AC6CA, -1060, -300}); got != want {
		t.Errorf("cachedPowers[0] = %#x %d %d, want %#x %d %d", got.f, got.e, got.k, want.f, want.e, want.k)
	}
	if got := cachedPowers[len(cachedPowers)-1].k; got != 324 {
		t.Errorf("last cached power is 10^%d, want 10^324", got)
	}
}

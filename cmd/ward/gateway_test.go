package main

import (
	"strings"
	"testing"
)

func TestParseGatewayKeys(t *testing.T) {
	k, err := parseGatewayKeys(" anthropic = sk-ant-1 ,other=sk-2,")
	if err != nil || k["anthropic"] != "sk-ant-1" || k["other"] != "sk-2" || len(k) != 2 {
		t.Fatalf("%v %v", k, err)
	}
	for _, bad := range []string{"sk-ant-secret", "anthropic=", "=sk-ant-secret"} {
		_, err := parseGatewayKeys(bad)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

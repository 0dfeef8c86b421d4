package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/testnet"
)

// TestPrometheusScrapes runs a real Prometheus (Debian's package) that
// scrapes a running mon's status_listen and asks it, through its HTTP
// API, for the response time the tcp built-in measured: the exposition,
// the scrape and the series names all have to work for a number to come
// back.
func TestPrometheusScrapes(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus (Debian package prometheus) is needed: run scripts/install-test-deps.sh")
	}
	port := testnet.Acceptor(t)

	d := newMonDir(t)
	cf := d.config(`hostgroup web 127.0.0.1

watch web
    service tcp
        interval 1s
        monitor tcp.monitor -p ` + port + "\n")
	d.start(nil, "-c", cf)

	promPort := testnet.Port(t)
	d.write("prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: gomon
    static_configs:
      - targets: ['127.0.0.1:%d']
`, d.http), 0o644)
	cmd := exec.Command(prom,
		"--config.file="+d.path("prometheus.yml"),
		"--storage.tsdb.path="+t.TempDir(),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(promPort))
	out := &await.Output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus said:\n%s", out.String())
		}
	})

	const query = `gomon_monitor_value{group="web",service="tcp",host="127.0.0.1",name="response_seconds"}`
	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", promPort, url.QueryEscape(query))
	var got float64
	waitUntil(t, 60*time.Second, "Prometheus to answer "+query, func() bool {
		resp, err := http.Get(api)
		if err != nil {
			return false // not listening yet
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" || len(r.Data.Result) != 1 {
			return false
		}
		s, _ := r.Data.Result[0].Value[1].(string)
		got, err = strconv.ParseFloat(s, 64)
		return err == nil
	})
	if got <= 0 || got > 10 {
		t.Errorf("%s = %v, want a response time in seconds", query, got)
	}
	t.Logf("%s = %v", query, got)
}

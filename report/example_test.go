package report_test

import (
	"fmt"
	"strings"

	"github.com/mke-migrate/mke-migrate/report"
)

// Load an output folder and render its page; the data is also embedded in
// the page as JSON.
func Example() {
	d, err := report.Load("testdata/rolled-back")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Outcome)
	fmt.Println(d.Timeline.Failures[0].Step, "failed on", d.Timeline.Failures[0].Host)
	fmt.Println("not available:", d.Unavailable[report.SectionSummary])

	var page strings.Builder
	if err := report.Render(&page, d); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(page.String(), `<script type="application/json" id="report-data">`))
	// Output:
	// rolled-back
	// k0s-worker failed on 10.250.141.2:22
	// not available: summary.txt: not in the output folder (written when an upgrade finishes)
	// true
}

package convert_test

import (
	"log"
	"os"

	"github.com/mke-migrate/mke-migrate/convert"
)

// WriteJSON streams the report, as JSON would return it, to a writer: a
// report of hundreds of thousands of flags need not be held whole.
func ExampleReport_WriteJSON() {
	cfg, err := convert.Parse("mke3-config.toml", []byte("[cluster_config]\n  calico_kdd = true\n  kubelet_max_pods = 200\n"))
	if err != nil {
		log.Fatal(err)
	}
	_, rep, err := convert.Convert(cfg, convert.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := rep.WriteJSON(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {
	//   "entries": [
	//     {
	//       "key": "cluster_config.calico_kdd",
	//       "line": 2,
	//       "status": "default",
	//       "reason": "Calico already uses the Kubernetes datastore, as MKE 4k requires"
	//     },
	//     {
	//       "key": "cluster_config.kubelet_max_pods",
	//       "line": 3,
	//       "status": "converted",
	//       "target": "spec.kubelet.maxPods",
	//       "basis": "checked"
	//     }
	//   ]
	// }
}

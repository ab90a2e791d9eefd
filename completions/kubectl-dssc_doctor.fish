# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_dssc_doctor_global_optspecs
    string join \n o/output= color= no-color checks= n/namespace= release= max-input-size= kubeconfig= context= timeout= tail= max-log-bytes= concurrency= no-probe probe-samples= probe-timeout= w/watch settle= watch-timeout= f/values= set= push= cluster-name= h/help V/version
end

function __fish_kubectl_dssc_doctor_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_dssc_doctor_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_dssc_doctor_using_subcommand
    set -l cmd (__fish_kubectl_dssc_doctor_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l probe-samples -d 'Latency samples of the diagnosis probe (0 skips the latency stage)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l probe-timeout -d 'Limit of each network operation of the diagnosis probe' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l settle -d 'How long a root cause must hold, with no pod progressing, before --watch gives up' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l watch-timeout -d 'The longest --watch runs' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s f -l values -d 'A values file (overrides.yaml); several merge in order, like helm' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l set -d 'A value on the command line, like helm --set (db.host=db.example.com)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l push -d 'Push the metrics (the series of -o openmetrics) to this Pushgateway (http[s]://host:9091), replacing the group job=dssc-doctor, cluster, namespace, release. Exit status is then 0 once the push succeeded, whatever was found; 1 or 2 when the push or the diagnosis failed (a failed diagnosis still pushes dssc_doctor_up 0)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s w -l watch -d 'Watch the namespace\'s pods and events and print each finding as its evidence appears; exit 0 once every Smart Check pod is Ready, 3 once a root cause has held for --settle with no pod progressing (or at --watch-timeout)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "analyze" -d 'Diagnose a support bundle (directory or .tar.gz), a log file, or stdin (-)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "checks" -d 'List the catalogue of checks'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "explain" -d 'Print the documentation of one check: title, why, fix and reference'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "bundle" -d 'Collect a redacted support bundle of the live install (troubleshoot.sh layout plus analysis.json); -o FILE.tar.gz names it'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "serve" -d 'Serve a support bundle as a read-only Kubernetes API (for kubectl and tests)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "probe" -d 'Probe the database stage by stage: DNS, TCP, SSLRequest, TLS, certificate, login, readiness and latency'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "preflight" -d 'Before `helm install`: check overrides.yaml, the cluster (namespace, CA ConfigMap/Secret, NetworkPolicies) and the database as the pods will see them'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "exporter" -d 'Re-diagnose the live install on an interval and serve the metrics on /metrics (and /healthz), for a Prometheus that scrapes'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "schema" -d 'Print the JSON Schema of the -o json report (schema/report.schema.json)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s j -l jobs -d 'Paths analysed at once (default: the number of CPUs)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s c -l container -d 'For a log file or stdin: the container it came from (limits the rules to those for that container; default: all rules)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s f -l values -d 'A values file (overrides.yaml); several merge in order, like helm' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l set -d 'A value on the command line, like helm --set (db.host=db.example.com)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l dir -d 'Write the bundle as a directory instead of a .tar.gz' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l port -d 'Port to listen on (0: any free port)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l address -d 'Address to listen on' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l latency -d 'Delay added before every response (e.g. 20ms), to mimic a remote API server' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l kubeconfig-out -d 'Write the kubeconfig here (default: a temporary file, removed on exit)' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l forbid -d 'Answer these resources with 403 Forbidden, like an account without read access to them (comma-separated plural names, e.g. secrets,nodes)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l token -d 'Require this bearer token (written into the kubeconfig); any other gets 401 Unauthorized, as a rejected or expired token does' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l access-log -d 'Append each request (method, path and query, User-Agent) to FILE' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l script -d 'Timed changes to the served bundle (YAML steps: apply, patch, delete, logs, compact, drop_watches), for watches to see an install change' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l bookmark-interval -d 'How often a watch that allows bookmarks gets one' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l kubelet-unreachable -d 'Fail log reads as the API server does when it cannot reach the node\'s kubelet'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l host -d 'Database host name or IP address (db.host). Without it, every setting (host, port, user, TLS mode, CA, password) is discovered from the live install in the namespace, as the diagnosis does' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l port -d 'Database port (db.port)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l user -d 'Database user (db.user), the master user db-init logs in as' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l database -d 'Database to log in to (db-init uses postgres)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l sslmode -d 'TLS mode as in libpq and db.tls.mode' -r -f -a "disable\t''
allow\t''
prefer\t''
require\t''
verify-ca\t''
verify-full\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l ca-file -d 'CA bundle (PEM) to verify the server certificate with (db.tls.ca)' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l connect-timeout -d 'Limit of each network operation and of the whole login (e.g. 5s, 500ms)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l samples -d 'Latency samples (TCP connect and SELECT 1); 0 skips the latency stage' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l max-p50-ms -d 'LAT001 when a p50 round trip to the database exceeds this many milliseconds' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l max-p95-ms -d 'LAT001 when a p95 round trip to the database exceeds this many milliseconds' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l services -d 'Smart Check services with a database pool (pool budget = services x max-open)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l max-open-connections -d 'db.maxOpenConnections of each service' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l supported-versions -d 'Supported server versions, MIN-MAX major versions' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l password-stdin -d 'Read the password from the first line of standard input'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -s f -l values -d 'Values file (overrides.yaml); several merge in order like helm\'s -f (- is stdin)' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l set -d 'A value in helm\'s --set syntax (db.host=db.example.com), applied after the files' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l samples -d 'Latency samples of the probe (0 skips the latency stage)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l max-p50-ms -d 'LAT001 when a p50 round trip to the database exceeds this many milliseconds' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l max-p95-ms -d 'LAT001 when a p95 round trip to the database exceeds this many milliseconds' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l supported-versions -d 'Supported database server versions, MIN-MAX major versions' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l ca-file -d 'The CA certificate (PEM bundle) the CA ConfigMap/Secret is to hold: the database is probed with it, and a CA object not created yet is a reminder with the `kubectl create` command instead of a failure' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l offline -d 'Check the values only: no cluster reads, no network checks, no database probe'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l listen -d 'Address to listen on: [HOST]:PORT (`:9464` is every interface)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l interval -d 'Time between diagnoses (each waits a random 0-10% more, so exporters started together spread out); a diagnosis is also cut off after this long' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand exporter" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -s o -l output -d 'Output format: text, json, markdown, junit or openmetrics (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l max-input-size -d 'Unpacked bytes read at most from one input (bundle, log, stdin); one file may take a sixteenth of it. What is over is skipped with DOC001' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l cluster-name -d 'Name of this cluster: the `cluster` label of every series (and of the push\'s grouping key)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "analyze" -d 'Diagnose a support bundle (directory or .tar.gz), a log file, or stdin (-)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "checks" -d 'List the catalogue of checks'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "explain" -d 'Print the documentation of one check: title, why, fix and reference'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "bundle" -d 'Collect a redacted support bundle of the live install (troubleshoot.sh layout plus analysis.json); -o FILE.tar.gz names it'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "serve" -d 'Serve a support bundle as a read-only Kubernetes API (for kubectl and tests)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "probe" -d 'Probe the database stage by stage: DNS, TCP, SSLRequest, TLS, certificate, login, readiness and latency'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "preflight" -d 'Before `helm install`: check overrides.yaml, the cluster (namespace, CA ConfigMap/Secret, NetworkPolicies) and the database as the pods will see them'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "exporter" -d 'Re-diagnose the live install on an interval and serve the metrics on /metrics (and /healthz), for a Prometheus that scrapes'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "schema" -d 'Print the JSON Schema of the -o json report (schema/report.schema.json)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight exporter schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

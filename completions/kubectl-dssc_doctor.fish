# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_dssc_doctor_global_optspecs
    string join \n o/output= color= no-color checks= n/namespace= release= kubeconfig= context= timeout= tail= max-log-bytes= concurrency= no-probe probe-samples= probe-timeout= f/values= set= h/help V/version
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

complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l probe-samples -d 'Latency samples of the diagnosis probe (0 skips the latency stage)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l probe-timeout -d 'Limit of each network operation of the diagnosis probe' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s f -l values -d 'A values file (overrides.yaml); several merge in order, like helm' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l set -d 'A value on the command line, like helm --set (db.host=db.example.com)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "analyze" -d 'Diagnose a support bundle (directory or .tar.gz), a log file, or stdin (-)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "checks" -d 'List the catalogue of checks'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "explain" -d 'Print the documentation of one check: title, why, fix and reference'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "bundle" -d 'Collect a redacted support bundle of the live install (troubleshoot.sh layout plus analysis.json); -o FILE.tar.gz names it'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "serve" -d 'Serve a support bundle as a read-only Kubernetes API (for kubectl and tests)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "probe" -d 'Probe the database stage by stage: DNS, TCP, SSLRequest, TLS, certificate, login, readiness and latency'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "preflight" -d 'Before `helm install`: check overrides.yaml, the cluster (namespace, CA ConfigMap/Secret, NetworkPolicies) and the database as the pods will see them'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "schema" -d 'Print the JSON Schema of the -o json report (schema/report.schema.json)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s c -l container -d 'For a log file or stdin: the container it came from (limits the rules to those for that container; default: all rules)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand analyze" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand checks" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand explain" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s f -l values -d 'A values file (overrides.yaml); several merge in order, like helm' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l set -d 'A value on the command line, like helm --set (db.host=db.example.com)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l dir -d 'Write the bundle as a directory instead of a .tar.gz' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand bundle" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l port -d 'Port to listen on (0: any free port)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l address -d 'Address to listen on' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l latency -d 'Delay added before every response (e.g. 20ms), to mimic a remote API server' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l kubeconfig-out -d 'Write the kubeconfig here (default: a temporary file, removed on exit)' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l forbid -d 'Answer these resources with 403 Forbidden, like an account without read access to them (comma-separated plural names, e.g. secrets,nodes)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand serve" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
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
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand probe" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
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
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l offline -d 'Check the values only: no cluster reads, no network checks, no database probe'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand preflight" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -s o -l output -d 'Output format: text, json, markdown or junit (for `bundle`: the file to write)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l color -d 'When to colour text output (NO_COLOR, when set and not empty, means never)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l checks -d 'Extra rule files: every *.toml in DIR is added to the built-in catalogue' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -s n -l namespace -d 'Namespace of the Smart Check install (default: the one its pods are in)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l release -d 'Helm release name of Smart Check (default: deepsecurity-smartcheck, else detected)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l kubeconfig -d 'Path to the kubeconfig file' -r -F
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l timeout -d 'Limit for each request to the cluster (and each network operation)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l tail -d 'Lines to read from the end of each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l max-log-bytes -d 'Bytes to read at most from each container log' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l concurrency -d 'Requests to the cluster in flight at once (one HTTP/1.1 connection each)' -r
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l no-color -d 'Same as --color never'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -l no-probe -d 'Do not connect to the database (diagnose and preflight)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand schema" -s h -l help -d 'Print help'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "analyze" -d 'Diagnose a support bundle (directory or .tar.gz), a log file, or stdin (-)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "checks" -d 'List the catalogue of checks'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "explain" -d 'Print the documentation of one check: title, why, fix and reference'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "bundle" -d 'Collect a redacted support bundle of the live install (troubleshoot.sh layout plus analysis.json); -o FILE.tar.gz names it'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "serve" -d 'Serve a support bundle as a read-only Kubernetes API (for kubectl and tests)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "probe" -d 'Probe the database stage by stage: DNS, TCP, SSLRequest, TLS, certificate, login, readiness and latency'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "preflight" -d 'Before `helm install`: check overrides.yaml, the cluster (namespace, CA ConfigMap/Secret, NetworkPolicies) and the database as the pods will see them'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "schema" -d 'Print the JSON Schema of the -o json report (schema/report.schema.json)'
complete -c kubectl-dssc_doctor -n "__fish_kubectl_dssc_doctor_using_subcommand help; and not __fish_seen_subcommand_from analyze checks explain bundle serve probe preflight schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

# A minimal service: configuration comes from the environment at run time.
run ->(env) { [200, { "content-type" => "text/plain" }, ["ok"]] }

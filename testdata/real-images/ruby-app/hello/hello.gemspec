Gem::Specification.new do |s|
  s.name        = "hello"
  s.version     = "1.0.0"
  s.summary     = "A gem installed with gem install, for layerscan's provenance tests"
  s.authors     = ["layerscan"]
  s.files       = ["lib/hello.rb"]
  s.license     = "MIT"
end

# Says hello.
module Hello
  def self.greet(name)
    "hello, #{name}"
  end
end

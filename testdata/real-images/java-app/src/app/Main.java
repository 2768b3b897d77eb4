package app;

/** A minimal service: configuration comes from the environment at run time. */
public final class Main {
    public static void main(String[] args) {
        String port = System.getenv().getOrDefault("PORT", "8080");
        System.out.println("listening on " + port);
    }
}
